import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { graphCalls, seedIncident } from '../helpers/seed-incident';

/**
 * A worker dies between steps (SIGKILL: nothing drained, nothing handed back). A new host on the same storage
 * finishes the case from the persisted steps: the disable is not repeated, one ticket, one comment.
 */
describe('a crash between containment steps', () => {
  const stack = useStack();

  it('resumes after the disable: the case completes with one disable, one ticket and one comment', async () => {
    const id = DEMO.agents.invoice;
    const incident = seedIncident(stack.sim, 1, [{ id, name: 'Contoso Invoice Agent' }]);
    // Identity Protection is down: the confirm step cannot finish, so the worker is caught after the disable.
    stack.sim.addFault({ method: 'POST', path: 'identityProtection/riskyAgents/', status: 503, times: 1_000 });
    const res = await stack.post('/api/alerts', incident.trigger());
    expect(res.status).toBe(202);
    const caseId = String(res.body['caseId']);
    const disableDone = (c: { targets: { steps: { action: string; state: string }[] }[] }) =>
      c.targets[0]?.steps.some((s) => s.action === 'disable' && s.state === 'done') === true;
    const before = await stack.waitForCase(caseId, disableDone);
    expect(before.targets[0]?.steps.find((s) => s.action === 'confirm-compromised')?.state).not.toBe('done');

    await stack.crashHost();
    expect(graphCalls(stack.sim, (c) => c.method === 'PATCH' && c.path.includes(id))).toHaveLength(1);
    expect(stack.sim.state.tickets.servicenow).toHaveLength(0);

    // Identity Protection is back; a new worker starts on the same storage and the queue delivers the case again
    // (the message the dead worker held stays invisible for its lease, so the test hands it over at once).
    await fetch(`${stack.sim.url}/_sim/faults`, { method: 'DELETE' });
    await stack.restartHost();
    const redelivered = await fetch(`${stack.url}/admin/functions/containment-queue?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: JSON.stringify({ caseId }) }),
    });
    expect(redelivered.status).toBe(200);

    const c = await stack.waitForCase(caseId, settled, 45_000);
    expect(c.status).toBe('done');
    expect(c.targets[0]).toMatchObject({ status: 'contained' });
    expect(c.targets[0]?.steps.map((s) => [s.action, s.state])).toEqual([
      ['disable', 'done'],
      ['confirm-compromised', 'done'],
    ]);
    expect(c.targets[0]?.steps.find((s) => s.action === 'disable')?.attempts).toBe(1);
    expect(graphCalls(stack.sim, (x) => x.method === 'PATCH' && x.path.includes(id))).toHaveLength(1);
    expect(stack.sim.state.get(id)).toMatchObject({ accountEnabled: false, riskState: 'confirmedCompromised' });
    expect(stack.sim.state.tickets.servicenow.filter((t) => t.fields['correlation_id'] === `agent-responders:${caseId}`)).toHaveLength(1);
    expect(stack.sim.state.allComments().filter((x) => x.incidentId === incident.armId)).toHaveLength(1);
  });
});
