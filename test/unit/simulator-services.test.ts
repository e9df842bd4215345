import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import type { Simulator } from '../../dev/simulator/start-simulator';
import { signWebhook, startSimulator } from '../../dev/simulator/start-simulator';

const basic = (user: string, secret: string): string => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

describe('simulator ARM, tickets and webhook', () => {
  let sim: Simulator;
  let armToken: string;

  beforeAll(async () => {
    sim = await startSimulator();
    const res = await fetch(`${sim.identityEndpoint}?resource=https://management.azure.com/.default&api-version=2019-08-01`, {
      headers: { 'X-IDENTITY-HEADER': sim.identityHeader },
    });
    armToken = ((await res.json()) as { access_token: string }).access_token;
  });
  afterAll(async () => {
    await sim.stop();
  });

  const arm = (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${sim.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${armToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('reads the demo incident and its entities at api-version 2025-09-01 only', async () => {
    const ok = await arm('GET', `${DEMO.incident.armId}?api-version=2025-09-01`);
    expect(ok.status).toBe(200);
    const incident = (await ok.json()) as { name: string; properties: { status: string } };
    expect(incident).toMatchObject({ name: DEMO.incident.name, properties: { status: 'Active' } });
    expect((await arm('GET', `${DEMO.incident.armId}?api-version=2024-03-01`)).status).toBe(400);
    const entities = (await (await arm('POST', `${DEMO.incident.armId}/entities?api-version=2025-09-01`)).json()) as {
      entities: { kind: string; properties: Record<string, unknown> }[];
      metaData: { entityKind: string; count: number }[];
    };
    const account = entities.entities.find((e) => e.kind === 'Account');
    expect(account?.properties.aadUserId).toBe(DEMO.agents.invoice);
    expect(account?.properties).not.toHaveProperty('upnSuffix');
    expect(entities.metaData).toContainEqual({ entityKind: 'Account', count: 1 });
    const missing = await arm('GET', `${DEMO.incident.armId.replace('0001', '0999')}?api-version=2025-09-01`);
    expect(missing.status).toBe(404);
  });

  it('keeps one comment when the same comment id is PUT twice', async () => {
    const url = `${DEMO.incident.armId}/comments/case-1-contained?api-version=2025-09-01`;
    const first = await arm('PUT', url, { properties: { message: 'Contained' } });
    expect(first.status).toBe(201);
    const second = await arm('PUT', url, { properties: { message: 'Contained (retry)' } });
    expect(second.status).toBe(200);
    const list = (await (await arm('GET', `${DEMO.incident.armId}/comments?api-version=2025-09-01`)).json()) as {
      value: { name: string; properties: { message: string } }[];
    };
    expect(list.value).toHaveLength(1);
    expect(list.value[0]?.properties.message).toBe('Contained (retry)');
    const all = (await (await fetch(`${sim.url}/_sim/comments`)).json()) as { value: unknown[] };
    expect(all.value).toHaveLength(1);
  });

  it('creates a ServiceNow incident and finds it by correlation id', async () => {
    const auth = basic('responder', 'dev-password');
    const created = await fetch(`${sim.url}/api/now/table/incident`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ short_description: 'Agent contained', description: 'x', correlation_id: 'case-42', work_notes: 'opened' }),
    });
    expect(created.status).toBe(201);
    const { result } = (await created.json()) as { result: { sys_id: string; number: string } };
    expect(result.number).toBe('INC0010001');
    const found = await fetch(`${sim.url}/api/now/table/incident?sysparm_query=correlation_id=case-42&sysparm_limit=1`, {
      headers: { authorization: auth },
    });
    const list = (await found.json()) as { result: { sys_id: string }[] };
    expect(list.result.map((r) => r.sys_id)).toEqual([result.sys_id]);
    const patched = await fetch(`${sim.url}/api/now/table/incident/${result.sys_id}`, {
      method: 'PATCH',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ work_notes: 'disabled agent', state: '6' }),
    });
    expect(((await patched.json()) as { result: { state: string; work_notes: string } }).result).toMatchObject({ state: '6' });
    const unauth = await fetch(`${sim.url}/api/now/table/incident`, { headers: { authorization: basic('responder', 'wrong') } });
    expect(unauth.status).toBe(401);
  });

  it('accepts a Jira issue with an ADF description and rejects a plain string', async () => {
    const auth = basic('responder@contoso.example', 'dev-jira-token');
    const post = (body: unknown): Promise<Response> =>
      fetch(`${sim.url}/rest/api/3/issue`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const bad = await post({ fields: { project: { key: 'SEC' }, summary: 's', issuetype: { name: 'Task' }, description: 'plain' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: Record<string, string> }).errors.description).toMatch(/Atlassian Document/);
    const adf = { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'hello' }] }] };
    const ok = await post({ fields: { project: { key: 'SEC' }, summary: 's', issuetype: { name: 'Task' }, description: adf, labels: ['case-7'] } });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { key: string }).key).toBe('SEC-1');
    const search = await fetch(`${sim.url}/rest/api/3/search/jql?jql=${encodeURIComponent('labels = "case-7"')}`, {
      headers: { authorization: auth },
    });
    expect(((await search.json()) as { issues: { key: string }[] }).issues.map((i) => i.key)).toEqual(['SEC-1']);
    const comment = await fetch(`${sim.url}/rest/api/3/issue/SEC-1/comment`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ body: adf }),
    });
    expect(comment.status).toBe(201);
  });

  it('verifies the webhook signature and deduplicates on Idempotency-Key', async () => {
    const body = JSON.stringify({ caseId: 'c-1', summary: 'contained' });
    const send = (signature: string, key: string): Promise<Response> =>
      fetch(`${sim.url}/webhook/tickets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Signature-256': signature, 'Idempotency-Key': key },
        body,
      });
    expect((await send('sha256=00', 'k1')).status).toBe(401);
    const good = signWebhook('dev-webhook-secret-0123456789', body);
    const first = await send(good, 'k1');
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };
    const again = await send(good, 'k1');
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(id);
    const tickets = (await (await fetch(`${sim.url}/_sim/tickets`)).json()) as { webhook: unknown[] };
    expect(tickets.webhook).toHaveLength(1);
  });
});
