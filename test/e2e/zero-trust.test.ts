import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEMO } from '../../dev/simulator/demo-ids';
import { generateAgents } from '../../dev/simulator/generate-agents';
import { settled, type CaseJson, type Stack } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { mintAccessToken } from '../helpers/approval-sign-in';
import { graphWrites as writesSince, lastSeq, seedIncident, type SeededIncident } from '../helpers/seed-incident';

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
const ticketsOf = (stack: Stack, caseId: string) => stack.sim.state.tickets.servicenow.filter((t) => String(t.fields['correlation_id']).startsWith(`agent-responders:${caseId}`));
const target = (c: CaseJson, id: string) => c.targets.find((t) => t.objectId === id);

describe('zero-trust intake: every alert is verified at its source before any write', () => {
  // The approver [0] object id stands in for the playbook's managed identity in the caller allow-list.
  const stack = useStack({ env: { INTAKE_ALLOWED_CALLERS: DEMO.approvers[0] } });
  /** The access token a workload (`objectId`) presents to the intake, as App Service Authentication passes it. */
  const bearer = async (objectId: string) => ({ authorization: `Bearer ${await mintAccessToken(stack.sim.url, objectId)}` });
  const post = async (body: unknown, auth?: Record<string, string>) => stack.post('/api/alerts', body, auth ?? (await bearer(DEMO.approvers[0])));

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

  it('records a forged incident id as suspicious, raises a SUSPICIOUS ticket and contains nothing', async () => {
    const res = await post(incidentBody({ incidentName: '8f1c2d3e-0000-4000-8000-00000000f0f0' }));
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('suspicious');
    expect(c.targets.every((t) => t.status === 'unverified' && t.verification?.state === 'refused')).toBe(true);
    expect(c.targets[0]?.reason).toMatch(/Sentinel has no incident/);
    expect(c.ticket?.provider).toBe('servicenow');
    const tickets = ticketsOf(stack, c.caseId);
    expect(tickets).toHaveLength(1);
    expect(tickets[0]?.fields['short_description']).toMatch(/SUSPICIOUS/);
    expect(graphWrites(stack)).toBe(0);
  });

  it('refuses a target the stored incident does not name, keeping both versions', async () => {
    await putIncident(stack, '8f1c2d3e-0000-4000-8000-00000000b0b0', 'Active', [accountEntity(DEMO.agents.orphan)]);
    const res = await post(incidentBody({ incidentName: '8f1c2d3e-0000-4000-8000-00000000b0b0', agentId: DEMO.classicSp }));
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('suspicious');
    expect(target(c, DEMO.classicSp)?.verification).toMatchObject({ state: 'refused', suspicious: true });
    expect(c.note).toMatch(/sentinel-copy-/);
    expect(stack.sim.state.get(DEMO.classicSp)?.accountEnabled).toBe(true);
  });

  it('refuses a closed incident with a reason and a ticket, and contains nothing', async () => {
    await putIncident(stack, '8f1c2d3e-0000-4000-8000-00000000c1c1', 'Closed', [accountEntity(DEMO.agents.expiring)]);
    const res = await post(incidentBody({ incidentName: '8f1c2d3e-0000-4000-8000-00000000c1c1', agentId: DEMO.agents.expiring }));
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('ignored');
    expect(target(c, DEMO.agents.expiring)).toMatchObject({ status: 'unverified', verification: { state: 'refused', suspicious: false } });
    expect(target(c, DEMO.agents.expiring)?.reason).toMatch(/closed/);
    expect(ticketsOf(stack, c.caseId)).toHaveLength(1);
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
    expect(target(c, DEMO.agents.invoice)).toMatchObject({ status: 'contained', verification: { state: 'verified' } });
    const armReads = stack.sim.calls.filter((call) => call.service === 'arm' && call.path.includes(DEMO.incident.name) && call.method !== 'PUT');
    expect(armReads.map((call) => call.method).sort()).toEqual(['GET', 'POST']);
  });
});

describe('zero-trust: identifiers of one target never vouch for another, and a forgery spoils nothing genuine', () => {
  const stack = useStack();

  it('refuses a victim named by object id beside the UPN of a user the incident really names', async () => {
    // Sentinel's incident names the agent user by UPN and object id; the forged update puts a victim agent's
    // object id next to that same UPN spelling.
    const incident = seedIncident(stack.sim, 61, [{ upn: DEMO.agentUserUpns[0] }]);
    const body = incident.trigger('Update') as { object: { properties: { relatedEntities: { properties: Record<string, unknown> }[] } } };
    const entity = body.object.properties.relatedEntities[0];
    if (entity) {
      entity.properties['aadUserId'] = DEMO.agents.invoice;
    }
    const since = lastSeq(stack.sim);
    const res = await stack.post('/api/alerts', body);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(target(c, DEMO.agents.invoice)).toMatchObject({ status: 'unverified', verification: { state: 'refused', suspicious: true } });
    expect(stack.sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(true);
    expect(writesSince(stack.sim, since)).toEqual([]);
  });

  it('refuses only the forged target of an update to a genuine case, tickets the forgery apart, and keeps the genuine containment', async () => {
    const incident = seedIncident(stack.sim, 62, [{ id: DEMO.agents.expired, name: 'Legacy Expense Agent' }]);
    const first = await stack.post('/api/alerts', incident.trigger());
    const caseId = String(first.body['caseId']);
    await stack.waitForCase(caseId, (c) => settled(c) && c.status === 'done');

    const forged = incident.trigger('Update') as { object: { properties: { relatedEntities: Record<string, unknown>[] } } };
    forged.object.properties.relatedEntities.push({ kind: 'Account', properties: { friendlyName: 'victim', accountName: 'victim', aadUserId: DEMO.classicSp } });
    const update = await stack.post('/api/alerts', forged);
    expect(update).toMatchObject({ status: 200, body: { caseId, added: 1 } });
    const c = await stack.waitForCase(caseId, (x) => settled(x) && x.targets.length === 2 && target(x, DEMO.classicSp)?.status === 'unverified');
    expect(c.status).toBe('done');
    expect(target(c, DEMO.agents.expired)?.status).toBe('contained');
    expect(target(c, DEMO.classicSp)?.verification).toMatchObject({ state: 'refused', suspicious: true });
    expect(stack.sim.state.get(DEMO.classicSp)?.accountEnabled).toBe(true);
    await expect.poll(() => ticketsOf(stack, caseId).length).toBe(2);
    const tickets = ticketsOf(stack, caseId);
    expect(tickets.map((t) => t.fields['correlation_id'])).toEqual(expect.arrayContaining([`agent-responders:${caseId}`, expect.stringMatching(new RegExp(`^agent-responders:${caseId}:refused:`))]));
    expect(tickets.find((t) => String(t.fields['correlation_id']).includes(':refused:'))?.fields['short_description']).toMatch(/SUSPICIOUS/);
  });

  it('acts on a verified incident about an identity while a direct request about it waits for approval', async () => {
    const direct = await stack.post('/api/alerts', { targets: [{ id: DEMO.agents.expiring }], reason: 'an analyst suspects it' });
    const held = await stack.waitForCase(String(direct.body['caseId']), settled);
    expect(held.status).toBe('held');

    const incident = seedIncident(stack.sim, 63, [{ id: DEMO.agents.expiring, name: 'Quarter-End Reconciliation Agent' }]);
    const res = await stack.post('/api/alerts', incident.trigger());
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(target(c, DEMO.agents.expiring)?.status).toBe('contained');
    expect(stack.sim.state.get(DEMO.agents.expiring)?.accountEnabled).toBe(false);
    // The held request no longer decides anything: it ends joined to the case that contained the identity.
    const after = await stack.waitForCase(held.caseId, (x) => x.targets[0]?.status === 'joined');
    expect(after.targets[0]?.reason).toContain(c.caseId);
  });

  /** Posts the incident while its Sentinel reads fail, and checks that its case waits (pending) instead of deciding. */
  async function postAndSeeItWait(incident: SeededIncident): Promise<string> {
    const res = await stack.post('/api/alerts', incident.trigger());
    const caseId = String(res.body['caseId']);
    await new Promise((r) => setTimeout(r, 1500));
    const waiting = (await stack.get(`/api/cases/${caseId}`)).body as unknown as CaseJson;
    expect(waiting.targets[0]?.status).toBe('pending');
    expect(['received', 'running']).toContain(waiting.status);
    return caseId;
  }

  it('never takes a failed or throttled read of Sentinel for an answer: it waits, then contains', async () => {
    const incident = seedIncident(stack.sim, 64, [{ id: DEMO.agents.orphan, name: 'Abandoned Research Agent' }]);
    // The entity list read fails: 503 twice over (past the in-call retries), then the connection drops.
    stack.sim.addFault({ method: 'POST', path: `${incident.name}/entities$`, status: 503, times: 10 });
    const caseId = await postAndSeeItWait(incident);
    stack.sim.addFault({ method: 'POST', path: `${incident.name}/entities$`, drop: true, times: 1 });
    const c = await stack.waitForCase(caseId, settled, 60_000);
    expect(target(c, DEMO.agents.orphan)).toMatchObject({ status: 'contained', verification: { state: 'verified' } });
  });

  it('never takes a throttled (429) or unanswered (time-out) read of the incident\'s entities for "names nobody"', { timeout: 90_000 }, async () => {
    const [agent = ''] = generateAgents(stack.sim.state, { agents: 1 }).ids;
    const incident = seedIncident(stack.sim, 65, [{ id: agent, name: 'Generated Agent' }]);
    const entitiesPath = `${incident.name}/entities$`;
    // Throttled past the in-call retries, then one read that never answers (the client's time-out), then answered.
    stack.sim.addFault({ method: 'POST', path: entitiesPath, status: 429, retryAfter: 0, times: 10 });
    stack.sim.addFault({ method: 'POST', path: entitiesPath, hang: true, times: 1 });
    const caseId = await postAndSeeItWait(incident);
    const c = await stack.waitForCase(caseId, settled, 75_000);
    expect(target(c, agent)).toMatchObject({ status: 'contained', verification: { state: 'verified' } });
    expect(stack.sim.state.get(agent)?.accountEnabled).toBe(false);
    const reads = stack.sim.calls.filter((call) => call.method === 'POST' && call.path.endsWith(`${incident.name}/entities`));
    expect(reads.length).toBeGreaterThanOrEqual(12);
    // Nothing was refused on the way: no SUSPICIOUS ticket, one ticket for the containment.
    expect(ticketsOf(stack, caseId).map((t) => t.fields['correlation_id'])).toEqual([`agent-responders:${caseId}`]);
  });
});
