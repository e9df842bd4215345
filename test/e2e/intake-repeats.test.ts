import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { settled, type CaseJson } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { graphCalls, graphWrites, lastSeq, seedIncident } from '../helpers/seed-incident';

/**
 * At-least-once everywhere: Sentinel re-posts incidents, updates them with more entities, and the queue
 * redelivers messages. Each identity is contained once, with one ticket per case.
 */
describe('repeated and updated alerts, end to end', () => {
  const stack = useStack();
  let firstCase: CaseJson;

  const ticketsOf = (caseId: string) => stack.sim.state.tickets.servicenow.filter((t) => t.fields['correlation_id'] === `agent-responders:${caseId}`);
  const commentsOn = (armId: string) => stack.sim.state.allComments().filter((c) => c.incidentId.toLowerCase() === armId.toLowerCase());
  const patchesOf = (id: string, since = 0) => graphCalls(stack.sim, (c) => c.method === 'PATCH' && c.path.includes(id), since);

  it('answers 422 with the same case every time a body naming nobody usable is posted again', async () => {
    const alert = {
      SystemAlertId: 'aa11bb22-0000-4000-8000-00000000422a',
      AlertDisplayName: 'Suspicious sign-in from an IP address',
      WorkspaceSubscriptionId: DEMO.workspace.subscriptionId,
      WorkspaceResourceGroup: DEMO.workspace.resourceGroup,
      Entities: [{ $id: '1', Type: 'ip', Address: '203.0.113.9' }],
    };
    const first = await stack.post('/api/alerts', alert);
    const again = await stack.post('/api/alerts', alert);
    expect(first.status).toBe(422);
    expect(again.status).toBe(422);
    expect(again.body['caseId']).toBe(first.body['caseId']);
    expect(first.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('answers a repeat of the same incident with 200 and the same case, containing the agent once', async () => {
    const incident = seedIncident(stack.sim, 1, [{ id: DEMO.agents.invoice, name: 'Contoso Invoice Agent' }]);
    const first = await stack.post('/api/alerts', incident.trigger());
    expect(first.status).toBe(202);
    // The playbook fires again before the first run finished (a Logic App retry).
    const again = await stack.post('/api/alerts', incident.trigger());
    expect(again.status).toBe(200);
    expect(again.body['caseId']).toBe(first.body['caseId']);
    const caseId = String(first.body['caseId']);
    firstCase = await stack.waitForCase(caseId, settled);
    expect(firstCase.status).toBe('done');
    const third = await stack.post('/api/alerts', incident.trigger());
    expect(third).toMatchObject({ status: 200, body: { caseId, added: 0 } });

    expect(patchesOf(DEMO.agents.invoice)).toHaveLength(1);
    expect(ticketsOf(caseId)).toHaveLength(1);
    expect(ticketsOf(caseId)[0]?.journal).toEqual([]);
    expect(commentsOn(incident.armId)).toHaveLength(1);
  });

  it('contains a target an incident update adds, without touching the one already contained', async () => {
    const [a, b] = [DEMO.agents.expired, DEMO.agents.expiring];
    const incident = seedIncident(stack.sim, 2, [{ id: a, name: 'Legacy Expense Agent' }]);
    const res = await stack.post('/api/alerts', incident.trigger());
    const caseId = String(res.body['caseId']);
    await stack.waitForCase(caseId, (c) => settled(c) && c.targets.every((t) => t.status === 'contained'));
    expect(ticketsOf(caseId)).toHaveLength(1);

    const since = lastSeq(stack.sim);
    const updated = seedIncident(stack.sim, 2, [
      { id: a, name: 'Legacy Expense Agent' },
      { id: b, name: 'Quarter-End Reconciliation Agent' },
    ]);
    const update = await stack.post('/api/alerts', updated.trigger('Update'));
    expect(update).toMatchObject({ status: 200, body: { caseId, added: 1 } });
    const c = await stack.waitForCase(caseId, (x) => settled(x) && x.targets.length === 2 && x.targets.every((t) => t.status === 'contained'));
    expect(c.status).toBe('done');

    expect(graphWrites(stack.sim, since)).toEqual([`PATCH /v1.0/servicePrincipals/${b}/microsoft.graph.agentIdentity`, 'POST /beta/identityProtection/riskyAgents/confirmCompromised']);
    expect(graphCalls(stack.sim, (x) => x.path.endsWith('/getByIds'), since).map((x) => x.body)).toEqual([{ ids: [b] }]);
    expect(graphCalls(stack.sim, (x) => x.path.includes('confirmCompromised'), since).map((x) => x.body)).toEqual([{ agentIds: [b] }]);
    expect(patchesOf(a)).toHaveLength(1);
    expect(c.targets.find((t) => t.objectId === a)?.steps.every((s) => s.attempts === 1)).toBe(true);
    // Still one ticket, now with a note for the new outcome; and a new comment on the incident.
    const tickets = ticketsOf(caseId);
    expect(tickets).toHaveLength(1);
    expect(tickets[0]?.journal.map((j) => j.field)).toEqual(['work_notes']);
    expect(commentsOn(updated.armId)).toHaveLength(2);
  });

  it('joins a new incident about an identity an earlier case keeps contained, instead of containing it again', async () => {
    const since = lastSeq(stack.sim);
    const incident = seedIncident(stack.sim, 3, [{ id: DEMO.agents.invoice, name: 'Contoso Invoice Agent' }]);
    const res = await stack.post('/api/alerts', incident.trigger());
    expect(res).toMatchObject({ status: 202, body: { added: 1 } });
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.targets[0]).toMatchObject({ status: 'joined', objectId: DEMO.agents.invoice });
    expect(c.targets[0]?.reason).toContain(firstCase.caseId);
    expect(graphWrites(stack.sim, since)).toEqual([]);
    // Covered by the earlier case: no ticket of its own, but its incident says which case holds the identity.
    expect(ticketsOf(c.caseId)).toHaveLength(0);
    expect(commentsOn(incident.armId)).toHaveLength(1);
  });

  it('contains again an identity enabled again behind its back when a new incident names it', async () => {
    await fetch(`${stack.sim.url}/_sim/objects/${DEMO.agents.invoice}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accountEnabled: true }) });
    const since = lastSeq(stack.sim);
    const incident = seedIncident(stack.sim, 5, [{ id: DEMO.agents.invoice, name: 'Contoso Invoice Agent' }]);
    const res = await stack.post('/api/alerts', incident.trigger());
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.targets[0]).toMatchObject({ status: 'contained' });
    expect(patchesOf(DEMO.agents.invoice, since)).toHaveLength(1);
    expect(stack.sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(false);
  });

  it('makes one case of the same incident posted twice at the same moment', async () => {
    const id = DEMO.agents.orphan;
    const incident = seedIncident(stack.sim, 4, [{ id, name: 'Abandoned Research Agent' }]);
    const since = lastSeq(stack.sim);
    const answers = await Promise.all([stack.post('/api/alerts', incident.trigger()), stack.post('/api/alerts', incident.trigger()), stack.post('/api/alerts', incident.trigger())]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    const caseId = String(answers[0]?.body['caseId']);
    expect(new Set(answers.map((a) => a.body['caseId']))).toEqual(new Set([caseId]));
    const c = await stack.waitForCase(caseId, settled);
    expect(c.targets[0]).toMatchObject({ status: 'contained' });
    expect(patchesOf(id, since)).toHaveLength(1);
    expect(ticketsOf(caseId)).toHaveLength(1);
  });

  it('does nothing more when the queue delivers a finished case again', async () => {
    const before = (await stack.get(`/api/cases/${firstCase.caseId}`)).body as unknown as CaseJson;
    const since = lastSeq(stack.sim);
    const tickets = stack.sim.state.tickets.servicenow.map((t) => t.journal.length);
    const res = await fetch(`${stack.url}/admin/functions/containment-queue?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: JSON.stringify({ caseId: firstCase.caseId }) }),
    });
    expect(res.status).toBe(200);
    const after = (await stack.get(`/api/cases/${firstCase.caseId}`)).body as unknown as CaseJson;
    expect(after.status).toBe('done');
    expect(after.targets).toEqual(before.targets);
    expect(after.caseSteps).toEqual(before.caseSteps);
    expect(stack.sim.calls.filter((c) => c.seq > since && c.service !== 'msi')).toEqual([]);
    expect(stack.sim.state.tickets.servicenow.map((t) => t.journal.length)).toEqual(tickets);
  });
});
