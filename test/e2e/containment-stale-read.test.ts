import { describe, expect, it } from 'vitest';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { graphCalls, lastSeq, seedIncident } from '../helpers/seed-incident';

/**
 * A case takes an identity from a case that contained it only when Graph said it was enabled again after that
 * containment. "After" is judged by when its read was sent, not when the case got round to it: a read sent before
 * the other case's disable and acted on after it (its Sentinel re-read was slow) is no proof of anything.
 */
describe('a read sent before another case contained the identity, acted on after it', () => {
  const stack = useStack();

  it('joins the case that contained the identity instead of containing it again', { timeout: 60_000 }, async () => {
    const res = await fetch(`${stack.sim.url}/_sim/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agents: 1 }) });
    const [agent] = ((await res.json()) as { ids: string[] }).ids;
    if (!agent) {
      throw new Error('the simulator generated no agent');
    }
    const first = seedIncident(stack.sim, 61, [{ id: agent, name: 'Generated agent' }]);
    const second = seedIncident(stack.sim, 62, [{ id: agent, name: 'Generated agent' }]);
    // Both cases read the agent (enabled) at once; the first re-reads its incident a second later and contains it,
    // the second re-reads its own four seconds later, long after the first contained the agent and let it go.
    stack.sim.addFault({ service: 'arm', method: 'GET', path: `${first.name}$`, status: 503, retryAfter: 1, times: 1 });
    stack.sim.addFault({ service: 'arm', method: 'GET', path: `${second.name}$`, status: 503, retryAfter: 4, times: 1 });
    const since = lastSeq(stack.sim);
    const a = await stack.post('/api/alerts', first.trigger());
    const b = await stack.post('/api/alerts', second.trigger());
    const firstCase = await stack.waitForCase(String(a.body['caseId']), settled);
    const secondCase = await stack.waitForCase(String(b.body['caseId']), settled);

    // Both cases read the agent before the first disabled it (no read of it came after the disable), and the
    // second case records its read as of when it was sent, before the first case cut access.
    const disables = graphCalls(stack.sim, (c) => c.method === 'PATCH' && c.path.includes(agent), since);
    expect(disables).toHaveLength(1);
    const reads = graphCalls(stack.sim, (c) => c.path.endsWith('/directoryObjects/getByIds') && JSON.stringify(c.body).includes(agent), since);
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads.every((r) => r.seq < (disables[0]?.seq ?? 0))).toBe(true);
    expect(Date.parse(String(secondCase.targets[0]?.resolvedAt))).toBeLessThan(Date.parse(String(firstCase.targets[0]?.accessCutAt)));
    expect(firstCase.targets[0]).toMatchObject({ status: 'contained', objectId: agent });
    expect(secondCase.targets[0]).toMatchObject({ status: 'joined', objectId: agent });
    expect(secondCase.targets[0]?.reason).toContain(firstCase.caseId);
  });
});
