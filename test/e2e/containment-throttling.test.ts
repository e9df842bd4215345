import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { graphCalls, lastSeq, seedIncident } from '../helpers/seed-incident';

/** Graph throttling, absorbed: Identity Protection's 1 request/s per tenant (no Retry-After) and a 429 on a write. */
describe('containment under throttling, end to end', () => {
  const stack = useStack();

  it('confirms the agents of several simultaneous cases in fewer Identity Protection calls than agents', async () => {
    stack.sim.setKnobs({ identityProtectionThrottle: true });
    const generated = (await (
      await fetch(`${stack.sim.url}/_sim/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agents: 6 }) })
    ).json()) as { ids: string[] };
    const agents = generated.ids;
    // The first confirm call is throttled too, as when another app of the tenant just used the 1 request/s.
    stack.sim.addFault({ method: 'POST', path: 'identityProtection/riskyAgents/', status: 429, times: 1 });
    const since = lastSeq(stack.sim);
    const posted = await Promise.all(agents.map((id, i) => stack.post('/api/alerts', seedIncident(stack.sim, 10 + i, [{ id, name: `Generated Agent ${i}` }]).trigger())));
    expect(posted.map((r) => r.status)).toEqual(agents.map(() => 202));
    const cases = await Promise.all(posted.map((r) => stack.waitForCase(String(r.body['caseId']), settled, 30_000)));

    expect(cases.map((c) => c.status)).toEqual(agents.map(() => 'done'));
    for (const id of agents) {
      expect(stack.sim.state.get(id)).toMatchObject({ accountEnabled: false, riskState: 'confirmedCompromised' });
    }
    const confirms = graphCalls(stack.sim, (c) => c.path === '/beta/identityProtection/riskyAgents/confirmCompromised', since);
    const accepted = confirms.filter((c) => c.status === 204);
    expect(accepted.length).toBeLessThan(agents.length);
    expect(new Set(accepted.flatMap((c) => (c.body as { agentIds: string[] }).agentIds))).toEqual(new Set(agents));
    expect(confirms.filter((c) => c.status === 429).length).toBeGreaterThanOrEqual(1);
    expect(confirms.every((c) => c.status === 204 || c.status === 429)).toBe(true);
    stack.sim.setKnobs({ identityProtectionThrottle: false });
  });

  it('disables after waiting out the Retry-After of a throttled disable', async () => {
    const id = DEMO.agents.orphan;
    stack.sim.addFault({ method: 'PATCH', path: `/servicePrincipals/${id}/microsoft\\.graph\\.agentIdentity$`, status: 429, retryAfter: 1, times: 1 });
    const since = lastSeq(stack.sim);
    const res = await stack.post('/api/alerts', seedIncident(stack.sim, 1, [{ id, name: 'Abandoned Research Agent' }]).trigger());
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('done');
    const disable = c.targets[0]?.steps.find((s) => s.action === 'disable');
    expect(disable).toMatchObject({ state: 'done', attempts: 1 });
    const patches = graphCalls(stack.sim, (x) => x.method === 'PATCH' && x.path.includes(id), since);
    expect(patches.map((x) => x.status)).toEqual([429, 204]);
    expect(disable?.graphRequestIds).toEqual([patches[1]?.requestId]);
    expect(stack.sim.state.get(id)?.accountEnabled).toBe(false);
  });
});
