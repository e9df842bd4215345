import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { useStack } from '../helpers/use-stack';
import { graphWrites, seedIncident } from '../helpers/seed-incident';

/**
 * Nothing accepted is lost: a case whose message fails every time goes to the poison queue after host.json's
 * maxDequeueCount (5 attempts, 5 s apart), and the poison handler marks it failed and asks a human.
 */
describe('a case that fails every time, end to end', () => {
  const stack = useStack();

  it('lands in the poison queue, is marked failed and raises a MANUAL ACTION NEEDED ticket', async () => {
    // A 400 is Graph refusing the call for good (a bug on one side): every attempt fails at once, never deferred.
    stack.sim.addFault({ method: 'POST', path: '/directoryObjects/getByIds$', status: 400, times: 1_000 });
    const incident = seedIncident(stack.sim, 1, [{ id: DEMO.agents.invoice, name: 'Contoso Invoice Agent' }]);
    const res = await stack.post('/api/alerts', incident.trigger());
    expect(res.status).toBe(202);
    const caseId = String(res.body['caseId']);

    const c = await stack.waitForCase(caseId, (x) => x.status === 'failed', 50_000);
    expect(c.note).toMatch(/Manual action needed/i);
    // What the responder could not finish is failed, and the identity released: the next alert acts again.
    expect(c.targets[0]?.status).toBe('failed');
    const attempts = stack.sim.calls.filter((x) => x.path.endsWith('/getByIds'));
    expect(attempts.map((x) => x.status)).toEqual([400, 400, 400, 400, 400]);
    expect(graphWrites(stack.sim)).toEqual([]);
    expect(stack.sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(true);

    // The poison handler raises its ticket right after marking the case failed.
    for (let i = 0; i < 100 && !stack.sim.state.tickets.servicenow.some((t) => t.fields['correlation_id'] === `agent-responders:${caseId}:manual`); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const manual = stack.sim.state.tickets.servicenow.filter((t) => t.fields['correlation_id'] === `agent-responders:${caseId}:manual`);
    expect(manual).toHaveLength(1);
    expect(manual[0]?.fields['short_description']).toContain('MANUAL ACTION NEEDED');
    expect(manual[0]?.fields['urgency']).toBe('1');
  });
});
