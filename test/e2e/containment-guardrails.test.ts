import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { graphWrites, lastSeq, seedIncident } from '../helpers/seed-incident';

describe('report-only mode, end to end', () => {
  const stack = useStack({ env: { RESPONDER_MODE: 'report-only' } });

  it('plans and records every step as would-do, and changes nothing: no Graph write, no ticket, no comment', async () => {
    const incident = seedIncident(stack.sim, 1, [
      { id: DEMO.agents.invoice, name: 'Contoso Invoice Agent' },
      { id: DEMO.agentUsers[0], name: 'Contoso Invoice Agent (user)' },
      { id: DEMO.blueprintPrincipal, name: 'Contoso Finance Agent Blueprint' },
    ]);
    const since = lastSeq(stack.sim);
    const res = await stack.post('/api/alerts', incident.trigger());
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);

    expect(c.mode).toBe('report-only');
    const byId = new Map(c.targets.map((t) => [t.objectId, t]));
    expect(byId.get(DEMO.agents.invoice)).toMatchObject({ kind: 'agentIdentity', status: 'would-contain' });
    expect(byId.get(DEMO.agents.invoice)?.steps.map((s) => [s.action, s.state])).toEqual([
      ['disable', 'would-do'],
      ['confirm-compromised', 'would-do'],
    ]);
    expect(byId.get(DEMO.agentUsers[0])?.steps.map((s) => [s.action, s.state])).toEqual([
      ['revoke-sessions', 'would-do'],
      ['confirm-compromised', 'would-do'],
    ]);
    // A blueprint would wait for approval; report-only asks nobody, and holds nothing: the outcome is final.
    const blueprint = byId.get(DEMO.blueprintPrincipal);
    expect(blueprint).toMatchObject({ status: 'would-hold' });
    expect(blueprint?.approvalId).toBeUndefined();
    expect(blueprint?.reason).toMatch(/^Report-only: in enforce mode this would wait for approval/);
    expect(c.caseSteps.map((s) => [s.action, s.state]).sort()).toEqual([
      ['comment', 'would-do'],
      ['ticket', 'would-do'],
    ]);

    expect(graphWrites(stack.sim, since)).toEqual([]);
    expect(stack.sim.calls.filter((x) => x.seq > since && ['servicenow', 'jira', 'webhook'].includes(x.service))).toEqual([]);
    expect(stack.sim.calls.filter((x) => x.seq > since && x.service === 'arm' && x.method === 'PUT')).toEqual([]);
    expect(stack.sim.state.tickets.servicenow).toHaveLength(0);
    expect(stack.sim.state.allComments()).toHaveLength(0);
    expect(stack.sim.state.mail).toHaveLength(0);
    for (const id of [DEMO.agents.invoice, DEMO.agentUsers[0], DEMO.blueprintPrincipal]) {
      expect(stack.sim.state.get(id)?.accountEnabled).toBe(true);
      expect(stack.sim.state.get(id)?.riskState).toBeUndefined();
    }
  });
});

describe('the blast-radius limit, end to end', () => {
  const stack = useStack({ env: { BLAST_RADIUS_PER_HOUR: '1' } });

  it('contains up to the hourly limit and holds the rest for approval', async () => {
    const agents = [DEMO.agents.expired, DEMO.agents.orphan];
    const incident = seedIncident(stack.sim, 1, [
      { id: agents[0] ?? '', name: 'Legacy Expense Agent' },
      { id: agents[1] ?? '', name: 'Abandoned Research Agent' },
    ]);
    const res = await stack.post('/api/alerts', incident.trigger());
    const c = await stack.waitForCase(String(res.body['caseId']), settled);

    expect(c.status).toBe('held');
    const contained = c.targets.filter((t) => t.status === 'contained');
    const held = c.targets.filter((t) => t.status === 'held');
    expect(contained).toHaveLength(1);
    expect(held).toHaveLength(1);
    expect(held[0]?.approvalId).toMatch(/^[0-9a-f]{24}$/);
    expect(held[0]?.reason).toMatch(/Blast-radius limit reached \(1 per rolling hour\)/);
    expect(held[0]?.steps.every((s) => s.state === 'held')).toBe(true);
    const writes = graphWrites(stack.sim).filter((w) => w.startsWith('PATCH'));
    expect(writes).toEqual([`PATCH /v1.0/servicePrincipals/${contained[0]?.objectId}/microsoft.graph.agentIdentity`]);
    expect(stack.sim.state.get(held[0]?.objectId ?? '')?.accountEnabled).toBe(true);

    // The limit spans cases: the next incident's agent waits too.
    const since = lastSeq(stack.sim);
    const next = await stack.post('/api/alerts', seedIncident(stack.sim, 2, [{ id: DEMO.agents.expiring, name: 'Quarter-End Reconciliation Agent' }]).trigger());
    const c2 = await stack.waitForCase(String(next.body['caseId']), settled);
    expect(c2.targets[0]).toMatchObject({ status: 'held' });
    expect(graphWrites(stack.sim, since).filter((w) => w.startsWith('PATCH'))).toEqual([]);
  });
});
