import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEMO } from '../../dev/simulator/demo-ids';
import { settled, startStack, type Stack } from '../helpers/start-stack';
import { mintAccessToken } from '../helpers/approval-sign-in';

const demoIncident = (): Record<string, unknown> => JSON.parse(readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;

/** The demo incident body with another incident id and/or another agent named in it. */
function incidentBody(opts: { incidentName?: string; agentId?: string; workspace?: string } = {}): Record<string, unknown> {
  const body = demoIncident();
  const object = body['object'] as { id: string; name: string; properties: { relatedEntities: { properties: Record<string, unknown> }[] } };
  if (opts.incidentName) {
    object.id = object.id.replace(DEMO.incident.name, opts.incidentName);
    object.name = opts.incidentName;
  }
  if (opts.workspace) {
    object.id = object.id.replace('/workspaces/soc-ws/', `/workspaces/${opts.workspace}/`);
    (body['workspaceInfo'] as Record<string, string>)['WorkspaceName'] = opts.workspace;
  }
  if (opts.agentId) {
    const first = object.properties.relatedEntities[0];
    if (first) {
      first.properties['aadUserId'] = opts.agentId;
      first.properties['friendlyName'] = 'someone else';
    }
  }
  return body;
}

/** Adds an incident to the simulator's Sentinel, as an analytic rule would have created it. */
async function putIncident(stack: Stack, name: string, status: string, entities: unknown[]): Promise<void> {
  const id = DEMO.incident.armId.replace(DEMO.incident.name, name);
  const res = await fetch(`${stack.sim.url}/_sim/incidents`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, name, type: 'Microsoft.SecurityInsights/Incidents', properties: { title: 'test incident', severity: 'High', status }, entities }),
  });
  expect(res.status).toBeLessThan(300);
}

const accountEntity = (aadUserId: string) => ({ kind: 'Account', properties: { friendlyName: 'agent', accountName: 'agent', aadUserId } });

const graphWrites = (stack: Stack) => stack.sim.calls.filter((c) => c.service === 'graph' && c.method === 'PATCH').length;

describe('zero-trust intake: every alert is verified at its source before any write', () => {
  let stack: Stack;
  let playbookAuth: Record<string, string>;
  /** The access token a workload (`objectId`) presents to the intake, as App Service Authentication passes it. */
  const bearer = async (objectId: string) => ({ authorization: `Bearer ${await mintAccessToken(stack.sim.url, objectId)}` });
  beforeAll(async () => {
    // The approver [0] object id stands in for the playbook's managed identity in the caller allow-list.
    stack = await startStack({ env: { INTAKE_ALLOWED_CALLERS: DEMO.approvers[0] } });
    playbookAuth = await bearer(DEMO.approvers[0]);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  const post = (body: unknown, auth = playbookAuth) => stack.post('/api/alerts', body, auth);

  it('refuses a caller outside the allow-list with 403 and contains nothing', async () => {
    const anonymous = await post(incidentBody(), { authorization: '' });
    expect(anonymous.status).toBe(403);
    expect(anonymous.body['type']).toMatch(/caller-not-allowed/);
    const other = await post(incidentBody(), await bearer(DEMO.human));
    expect(other.status).toBe(403);
    expect(graphWrites(stack)).toBe(0);
  });

  it('refuses a body from a workspace that is not ours', async () => {
    const res = await post(incidentBody({ workspace: 'attacker-ws', incidentName: '8f1c2d3e-0000-4000-8000-0000000000aa' }));
    expect(res.status).toBe(403);
    expect(String(res.body['detail'])).toMatch(/not in SENTINEL_WORKSPACES/);
  });

  it('records a forged incident id as suspicious, raises a ticket and contains nothing', async () => {
    const res = await post(incidentBody({ incidentName: '8f1c2d3e-0000-4000-8000-00000000f0f0' }));
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('suspicious');
    expect(c.verification?.state).toBe('not-found');
    expect(c.targets.every((t) => t.status === 'unverified')).toBe(true);
    expect(c.ticket?.provider).toBe('servicenow');
    expect(graphWrites(stack)).toBe(0);
  });

  it('refuses a target the stored incident does not name, keeping both versions', async () => {
    await putIncident(stack, '8f1c2d3e-0000-4000-8000-00000000b0b0', 'Active', [accountEntity(DEMO.agents.orphan)]);
    const res = await post(incidentBody({ incidentName: '8f1c2d3e-0000-4000-8000-00000000b0b0', agentId: DEMO.classicSp }));
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('suspicious');
    expect(c.verification?.state).toBe('mismatch');
    expect(c.note).toMatch(/sentinel\.json/);
    const sp = (await (await fetch(`${stack.sim.url}/_sim/objects/${DEMO.classicSp}`)).json()) as { accountEnabled: boolean };
    expect(sp.accountEnabled).toBe(true);
  });

  it('ignores a closed incident', async () => {
    await putIncident(stack, '8f1c2d3e-0000-4000-8000-00000000c1c1', 'Closed', [accountEntity(DEMO.agents.expiring)]);
    const res = await post(incidentBody({ incidentName: '8f1c2d3e-0000-4000-8000-00000000c1c1', agentId: DEMO.agents.expiring }));
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('ignored');
    expect(c.verification?.state).toBe('closed');
    expect(graphWrites(stack)).toBe(0);
  });

  it('holds a direct request from an allowed caller for approval, and refuses one from anyone else', async () => {
    const direct = { targets: [{ id: DEMO.classicSp }], reason: 'analyst saw token theft' };
    expect((await post(direct, await bearer(DEMO.approvers[1]))).status).toBe(403);
    const res = await post(direct);
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('held');
    expect(c.targets[0]?.status).toBe('held');
    expect(c.targets[0]?.approvalId).toMatch(/^[0-9a-f]{24}$/);
    expect(graphWrites(stack)).toBe(0);
  });

  it('still contains the agent a genuine incident names', async () => {
    const res = await post(incidentBody());
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.verification?.state).toBe('verified');
    expect(c.targets.find((t) => t.objectId === DEMO.agents.invoice)?.status).toBe('contained');
    const armReads = stack.sim.calls.filter((call) => call.service === 'arm' && call.path.includes(DEMO.incident.name) && call.method !== 'PUT');
    expect(armReads.map((call) => call.method).sort()).toEqual(['GET', 'POST']);
  });
});
