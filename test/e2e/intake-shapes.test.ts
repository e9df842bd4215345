import { mintAccessToken } from '../helpers/approval-sign-in';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { graphWrites, lastSeq, seedIncident } from '../helpers/seed-incident';
import { E2E_GRAPH_FEATURES } from '../helpers/planned-permissions';

/** The Sentinel playbook's managed identity, as App Service Authentication would vouch for it. */
const PLAYBOOK = { id: 'b0a70000-0000-4000-8000-000000000001' };
const STRANGER = { id: 'b0a70000-0000-4000-8000-0000000000ff' };

/**
 * Every body shape Sentinel (or an operator) posts, through the whole app, with the intake's caller allow-list
 * on: the host's development Easy Auth signs the caller in, as App Service Authentication does in Azure.
 */
describe('intake of each body shape, end to end, from an allow-listed caller', () => {
  const stack = useStack({
      env: { INTAKE_ALLOWED_CALLERS: PLAYBOOK.id },
      // The direct request names a classic service principal: disabling it needs the sp-disable-any opt-in.
      features: [...E2E_GRAPH_FEATURES, 'sp-disable-any'],
    });
  let playbookAuth: Record<string, string>;
  /** The access token a workload presents to the intake, as App Service Authentication passes it. */
  const bearer = async (objectId: string) => ({ authorization: `Bearer ${await mintAccessToken(stack.sim.url, objectId)}` });

  beforeAll(async () => {
    playbookAuth = await bearer(PLAYBOOK.id);
  });

  it('refuses a caller App Service Authentication does not vouch for, or one not on the allow-list, and reads nothing for it', async () => {
    const incident = seedIncident(stack.sim, 1, [{ id: DEMO.agents.invoice }]);
    const since = lastSeq(stack.sim);
    const anonymous = await stack.post('/api/alerts', incident.trigger(), { authorization: '' });
    expect(anonymous).toMatchObject({ status: 403, body: { type: 'https://agent-responders.dev/problems/caller-not-allowed' } });
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    // A forged principal header is stripped by the front end, exactly like a missing one.
    const forged = await stack.post('/api/alerts', incident.trigger(), {
      authorization: '',
      'x-ms-client-principal': Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'oid', val: PLAYBOOK.id }] })).toString('base64'),
    });
    expect(forged.status).toBe(403);
    const stranger = await stack.post('/api/alerts', incident.trigger(), await bearer(STRANGER.id));
    expect(stranger).toMatchObject({ status: 403, body: { detail: `Caller ${STRANGER.id} is not in INTAKE_ALLOWED_CALLERS.` } });
    expect(graphWrites(stack.sim)).toEqual([]);
    // Nobody refused makes the responder read either (its reads go out from the intake ahead of the queue, see
    // read-ahead.ts): the playbook's own post of the same incident is read for once, and the three before it never.
    const res = await stack.post('/api/alerts', incident.trigger(), playbookAuth);
    expect(res.status).toBe(202);
    await stack.waitForCase(String(res.body['caseId']), settled);
    const upstream = stack.sim.calls.filter((c) => c.seq > since && (c.service === 'graph' || c.service === 'arm'));
    expect(upstream.filter((c) => c.path.endsWith('/getByIds') && JSON.stringify(c.body).includes(DEMO.agents.invoice))).toHaveLength(1);
    expect(upstream.filter((c) => c.service === 'arm' && c.method === 'GET' && c.path.toLowerCase() === incident.armId.toLowerCase())).toHaveLength(1);
  });

  it('contains the agent an entity trigger names, after checking the incident it points at', async () => {
    const id = DEMO.agents.expired;
    const incident = seedIncident(stack.sim, 2, [{ id, name: 'Legacy Expense Agent' }]);
    const since = lastSeq(stack.sim);
    const body = {
      Entity: { properties: { Name: 'Legacy Expense Agent', AadUserId: id, AadTenantId: DEMO.tenantId, IsDomainJoined: false, FriendlyName: 'Legacy Expense Agent' } },
      IncidentArmID: incident.armId,
    };
    const res = await stack.post('/api/alerts', body, playbookAuth);
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('done');
    expect(c.targets[0]).toMatchObject({ objectId: id, kind: 'agentIdentity', status: 'contained', verification: { state: 'verified' } });
    expect(graphWrites(stack.sim, since)).toEqual([`PATCH /v1.0/servicePrincipals/${id}/microsoft.graph.agentIdentity`, 'POST /beta/identityProtection/riskyAgents/confirmCompromised']);
  });

  it('reads the entities of an alert trigger sent as a JSON string, and holds them: no incident backs an alert', async () => {
    const since = lastSeq(stack.sim);
    const entities = [
      { $id: '2', Type: 'account', Name: 'Abandoned Research Agent', AadUserId: DEMO.agents.orphan, AadTenantId: DEMO.tenantId, IsDomainJoined: false },
      { $id: '3', Type: 'ip', Address: '203.0.113.7' },
    ];
    const body = {
      SystemAlertId: 'dddddddd-0000-4000-8000-00000000e2e1',
      AlertDisplayName: 'Agent identity signed in from an anonymising proxy',
      Severity: 'High',
      WorkspaceSubscriptionId: DEMO.workspace.subscriptionId,
      WorkspaceResourceGroup: DEMO.workspace.resourceGroup,
      Entities: JSON.stringify(entities),
    };
    const res = await stack.post('/api/alerts', body, playbookAuth);
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('held');
    expect(c.targets).toHaveLength(1);
    expect(c.targets[0]).toMatchObject({ objectId: DEMO.agents.orphan, kind: 'agentIdentity', status: 'held' });
    expect(c.targets[0]?.approvalId).toMatch(/^[0-9a-f]{24}$/);
    expect(c.rejectedEntities.map((e) => e.kind)).toEqual(['ip']);
    expect(graphWrites(stack.sim, since).filter((w) => !w.endsWith('/sendMail'))).toEqual([]);
    expect(stack.sim.state.get(DEMO.agents.orphan)?.accountEnabled).toBe(true);
  });

  it('holds what a direct request names even when the incident it cites names it: direct requests always wait', async () => {
    const id = DEMO.classicSp;
    const incident = seedIncident(stack.sim, 3, [{ id, name: 'Support Copilot' }]);
    const since = lastSeq(stack.sim);
    const res = await stack.post('/api/alerts', { targets: [{ id }], reason: 'Copilot exfiltrating tickets (SOC 7731)', severity: 'High', incidentArmId: incident.armId }, playbookAuth);
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('held');
    expect(c.targets[0]).toMatchObject({ kind: 'servicePrincipal', status: 'held', verification: { state: 'unverifiable' } });
    expect(graphWrites(stack.sim, since).filter((w) => !w.endsWith('/sendMail'))).toEqual([]);
  });

  it('refuses what a direct request names when the incident it cites does not name it', async () => {
    const incident = seedIncident(stack.sim, 4, [{ id: DEMO.agents.orphan, name: 'Abandoned Research Agent' }]);
    const res = await stack.post('/api/alerts', { targets: [{ id: DEMO.classicSp }], reason: 'citing an unrelated incident', incidentArmId: incident.armId }, playbookAuth);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('suspicious');
    expect(c.targets[0]).toMatchObject({ status: 'unverified', verification: { state: 'refused', suspicious: true } });
  });

  it('holds a direct request without an incident for approval', async () => {
    const since = lastSeq(stack.sim);
    const res = await stack.post('/api/alerts', { targets: [{ upn: DEMO.agentUserUpns[1] }], reason: 'Operator saw the agent user misbehave' }, playbookAuth);
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('held');
    expect(c.targets[0]).toMatchObject({ objectId: DEMO.agentUsers[1], kind: 'agentUser', status: 'held' });
    expect(c.targets[0]?.reason).toMatch(/No Sentinel incident/);
    expect(graphWrites(stack.sim, since).filter((w) => !w.endsWith('/sendMail'))).toEqual([]);
  });
});
