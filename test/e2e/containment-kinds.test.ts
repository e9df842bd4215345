import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { settled, type CaseJson } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { graphCalls, graphWrites, lastSeq, seedIncident, type NamedEntity } from '../helpers/seed-incident';
import { E2E_GRAPH_FEATURES } from '../helpers/planned-permissions';

/**
 * Each identity kind reaches exactly the Graph calls of the containment table (DESIGN.md), through the whole
 * app: Sentinel incident trigger → intake → queue → responder → Graph (the tenant simulator).
 */
describe('containment per identity kind, end to end', () => {
  // Classic service principals are disabled only with the opt-in that grants Application.ReadWrite.All.
  const stack = useStack({ env: { PROTECTED_IDENTITIES: DEMO.plainSp, CONTAIN_HUMAN_USERS: 'true' }, features: [...E2E_GRAPH_FEATURES, 'sp-disable-any'] });
  let n = 0;

  /** Posts an incident naming `named`, waits until its case settles, and returns it with the calls it caused. */
  async function contain(named: NamedEntity[]): Promise<{ c: CaseJson; since: number; writes: string[] }> {
    const since = lastSeq(stack.sim);
    const incident = seedIncident(stack.sim, ++n, named);
    const res = await stack.post('/api/alerts', incident.trigger());
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    return { c, since, writes: graphWrites(stack.sim, since) };
  }


  it('agent identity: one getByIds, the disable through the agentIdentity cast, then beta riskyAgents', async () => {
    const id = DEMO.agents.invoice;
    const { c, since, writes } = await contain([{ id, name: 'Contoso Invoice Agent' }]);
    expect(c.status).toBe('done');
    expect(c.targets[0]).toMatchObject({ kind: 'agentIdentity', status: 'contained', objectId: id });
    expect(writes).toEqual([`PATCH /v1.0/servicePrincipals/${id}/microsoft.graph.agentIdentity`, 'POST /beta/identityProtection/riskyAgents/confirmCompromised']);
    const resolve = graphCalls(stack.sim, (call) => call.path.endsWith('/getByIds'), since);
    expect(resolve.map((call) => call.body)).toEqual([{ ids: [id] }]);
    expect(graphCalls(stack.sim, (call) => call.path.includes('confirmCompromised'), since).map((call) => call.body)).toEqual([{ agentIds: [id] }]);
    expect(stack.sim.state.get(id)).toMatchObject({ accountEnabled: false, riskState: 'confirmedCompromised' });
  });

  it('classic service principal: PATCH /servicePrincipals/{id} and v1.0 riskyServicePrincipals', async () => {
    const id = DEMO.classicSp;
    const { c, since, writes } = await contain([{ id, name: 'Support Copilot' }]);
    expect(c.targets[0]).toMatchObject({ kind: 'servicePrincipal', status: 'contained' });
    expect(writes).toEqual([`PATCH /v1.0/servicePrincipals/${id}`, 'POST /v1.0/identityProtection/riskyServicePrincipals/confirmCompromised']);
    expect(graphCalls(stack.sim, (call) => call.method === 'PATCH', since).map((call) => call.body)).toEqual([{ accountEnabled: false }]);
    expect(graphCalls(stack.sim, (call) => call.path.includes('confirmCompromised'), since).map((call) => call.body)).toEqual([{ servicePrincipalIds: [id] }]);
    expect(stack.sim.state.get(id)).toMatchObject({ accountEnabled: false, riskState: 'confirmedCompromised' });
  });

  it('agent user named by UPN: GET /users/{upn}, riskyAgents, revokeSignInSessions, and no disable', async () => {
    const upn = DEMO.agentUserUpns[0];
    const id = DEMO.agentUsers[0];
    const { c, since, writes } = await contain([{ upn }]);
    expect(c.status).toBe('done');
    expect(c.targets[0]).toMatchObject({ kind: 'agentUser', status: 'contained', objectId: id });
    expect(c.targets[0]?.steps.map((s) => [s.action, s.state])).toEqual([
      ['revoke-sessions', 'done'],
      ['confirm-compromised', 'done'],
    ]);
    const reads = graphCalls(stack.sim, (call) => call.method === 'GET' || call.path.endsWith('/getByIds'), since).map((call) => `${call.method} ${decodeURIComponent(call.path)}`);
    expect(reads).toEqual([`GET /v1.0/users/${upn}`]);
    expect([...writes].sort()).toEqual(['POST /beta/identityProtection/riskyAgents/confirmCompromised', `POST /v1.0/users/${id}/revokeSignInSessions`]);
    expect(stack.sim.state.get(id)).toMatchObject({ accountEnabled: true, riskState: 'confirmedCompromised' });
  });

  it('human user (with CONTAIN_HUMAN_USERS on): riskyUsers and revokeSignInSessions, never disabled', async () => {
    const id = DEMO.human;
    const { c, writes } = await contain([{ id, name: 'Dana Sponsor' }]);
    expect(c.targets[0]).toMatchObject({ kind: 'user', status: 'contained' });
    expect([...writes].sort()).toEqual(['POST /v1.0/identityProtection/riskyUsers/confirmCompromised', `POST /v1.0/users/${id}/revokeSignInSessions`]);
    expect(stack.sim.state.get(id)?.accountEnabled).toBe(true);
  });

  it('agent blueprint principal: held for approval with an approval id, nothing disabled', async () => {
    const id = DEMO.blueprintPrincipal;
    const { c, writes } = await contain([{ id, name: 'Contoso Finance Agent Blueprint' }]);
    expect(c.status).toBe('held');
    const target = c.targets[0];
    expect(target).toMatchObject({ kind: 'agentBlueprintPrincipal', status: 'held' });
    expect(target?.approvalId).toMatch(/^[0-9a-f]{24}$/);
    expect(target?.steps.every((s) => s.state === 'held')).toBe(true);
    expect(writes.filter((w) => !w.endsWith('/sendMail'))).toEqual([]);
    expect(stack.sim.state.get(id)?.accountEnabled).toBe(true);
  });

  it('never touches a Microsoft first-party service principal, the responder itself, or a protected identity', async () => {
    const { c, writes } = await contain([
      { id: DEMO.firstPartySp, name: 'Microsoft Graph' },
      { id: DEMO.responder.objectId, name: 'Agent Responder' },
      { id: DEMO.plainSp, name: 'Payroll Export Service' },
    ]);
    expect(c.status).toBe('ignored');
    const byId = new Map(c.targets.map((t) => [t.objectId, t]));
    expect(byId.get(DEMO.firstPartySp)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/first-party/) as unknown });
    expect(byId.get(DEMO.responder.objectId)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/own identity/) as unknown });
    expect(byId.get(DEMO.plainSp)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/PROTECTED_IDENTITIES/) as unknown });
    expect(c.targets.flatMap((t) => t.steps).every((s) => s.state === 'skipped')).toBe(true);
    expect(writes).toEqual([]);
    for (const id of [DEMO.firstPartySp, DEMO.responder.objectId, DEMO.plainSp]) {
      expect(stack.sim.state.get(id)).toMatchObject({ accountEnabled: true });
      expect(stack.sim.state.get(id)?.riskState).toBeUndefined();
    }
  });
});
