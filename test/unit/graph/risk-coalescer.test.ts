import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../../shared/errors';
import type { Graph, GraphCall, GraphResult } from '../../../shared/graph/graph-client';
import { RiskCoalescer } from '../../../shared/graph/risk-coalescer';
import { callGate } from '../../helpers/call-gate';

const BAD = '00000000-0000-4000-8000-0000000000ba';

/**
 * A fake Graph that answers only Identity Protection calls: each call is recorded; a call naming BAD is refused
 * with 404 the way Graph refuses the whole call when one id is unknown; `gate` holds calls until released.
 */
function fakeGraph() {
  const calls: { path: string; ids: string[] }[] = [];
  const gate = callGate();
  const graph: Graph = {
    async call<T>(call: GraphCall): Promise<GraphResult<T>> {
      if (call.method !== 'POST' || !call.path.startsWith('/identityProtection/')) {
        throw new Error(`unexpected call ${call.method} ${call.path}`);
      }
      const ids = Object.values(call.body as Record<string, string[]>)[0] ?? [];
      calls.push({ path: call.path, ids });
      await gate.passed();
      if (ids.includes(BAD)) {
        throw new UpstreamError({ service: 'Graph', httpStatus: 404, upstreamCode: 'Request_ResourceNotFound', transient: false, message: `Resource '${BAD}' does not exist` });
      }
      return { status: 204, body: undefined as T, requestId: `req-${calls.length}` };
    },
    next: () => Promise.reject(new Error('unexpected next')),
  };
  return {
    graph,
    calls,
    hold: gate.hold,
    open: gate.open,
  };
}

describe('RiskCoalescer', () => {
  it('sends the first submission at once and merges those that arrive while it is in flight', async () => {
    const fake = fakeGraph();
    const coalescer = new RiskCoalescer(fake.graph, 0);
    fake.hold();
    const first = coalescer.submit('riskyAgents', 'confirmCompromised', ['a1']);
    const later = ['a2', 'a3', 'a4'].map((id) => coalescer.submit('riskyAgents', 'confirmCompromised', [id]));
    await Promise.resolve();
    fake.open();
    await Promise.all([first, ...later]);
    expect(fake.calls.map((c) => c.ids)).toEqual([['a1'], ['a2', 'a3', 'a4']]);
    expect(fake.calls.every((c) => c.path === '/identityProtection/riskyAgents/confirmCompromised')).toBe(true);
  });

  it('splits more than 60 ids into several calls', async () => {
    const fake = fakeGraph();
    const coalescer = new RiskCoalescer(fake.graph, 0);
    const ids = Array.from({ length: 130 }, (_, i) => `sp-${i}`);
    await coalescer.submit('riskyServicePrincipals', 'confirmCompromised', ids);
    expect(fake.calls.map((c) => c.ids.length)).toEqual([60, 60, 10]);
  });

  it("does not fail other submitters' confirmation when one submitter's id is refused", async () => {
    const fake = fakeGraph();
    const coalescer = new RiskCoalescer(fake.graph, 0);
    fake.hold();
    const opener = coalescer.submit('riskyAgents', 'confirmCompromised', ['a0']);
    const good = coalescer.submit('riskyAgents', 'confirmCompromised', ['a1']);
    const bad = coalescer.submit('riskyAgents', 'confirmCompromised', [BAD]);
    const alsoGood = coalescer.submit('riskyAgents', 'confirmCompromised', ['a2']);
    await Promise.resolve();
    fake.open();
    await expect(opener).resolves.toBe('req-1');
    await expect(good).resolves.toBeDefined();
    await expect(alsoGood).resolves.toBeDefined();
    await expect(bad).rejects.toMatchObject({ httpStatus: 404 });
    // One merged call refused, then one call per submitter.
    expect(fake.calls.map((c) => c.ids)).toEqual([['a0'], ['a1', BAD, 'a2'], ['a1'], [BAD], ['a2']]);
  });

  it('hands a transient failure to every submitter of the call, for their steps to be retried', async () => {
    const calls: string[][] = [];
    const graph: Graph = {
      call: (call) => {
        calls.push(Object.values(call.body as Record<string, string[]>)[0] ?? []);
        return Promise.reject(new UpstreamError({ service: 'Graph', httpStatus: 429, transient: true, message: 'throttled' }));
      },
      next: () => Promise.reject(new Error('unexpected next')),
    };
    const coalescer = new RiskCoalescer(graph, 0);
    const results = await Promise.allSettled([coalescer.submit('riskyUsers', 'confirmCompromised', ['u1']), coalescer.submit('riskyUsers', 'confirmCompromised', ['u2'])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls.flat().sort()).toEqual(['u1', 'u2']);
  });
});
