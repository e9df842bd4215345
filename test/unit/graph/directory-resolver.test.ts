import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UpstreamError } from '../../../shared/errors';
import type { Graph, GraphCall, GraphResult } from '../../../shared/graph/graph-client';
import { DirectoryResolver } from '../../../shared/graph/directory-resolver';
import { callGate } from '../../helpers/call-gate';

const WINDOW = 400;
const id = (n: number): string => `a9e00000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/**
 * A fake Graph that answers `getByIds` with an agent identity for each id it is asked about (except ids listed in
 * `unknown`), records each call with the fake clock's time, and holds calls while `hold()` is on.
 */
function fakeGraph() {
  const calls: { at: number; ids: string[] }[] = [];
  const unknown = new Set<string>();
  const failures: UpstreamError[] = [];
  const gate = callGate();
  const graph: Graph = {
    async call<T>(call: GraphCall): Promise<GraphResult<T>> {
      if (call.method !== 'POST' || call.path !== '/directoryObjects/getByIds') {
        throw new Error(`unexpected call ${call.method} ${call.path}`);
      }
      const ids = (call.body as { ids: string[] }).ids;
      calls.push({ at: Date.now(), ids });
      await gate.passed();
      const failure = failures.shift();
      if (failure) {
        throw failure;
      }
      const value = ids.filter((i) => !unknown.has(i)).map((i) => ({ '@odata.type': '#microsoft.graph.agentIdentity', id: i, accountEnabled: true }));
      return { status: 200, body: { value } as T, requestId: `req-${calls.length}` };
    },
    next: () => Promise.reject(new Error('unexpected next')),
  };
  return {
    graph,
    calls,
    unknown,
    /** The next calls fail with these, one each. */
    failWith(...errors: UpstreamError[]) {
      failures.push(...errors);
    },
    hold: gate.hold,
    open: gate.open,
  };
}

describe('DirectoryResolver', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends a lone case at once, and the next lone case at once too: incidents one after another wait for nothing', async () => {
    const fake = fakeGraph();
    const resolver = new DirectoryResolver(fake.graph, WINDOW);
    for (let n = 1; n <= 5; n++) {
      const found = await resolver.resolve([id(n)]);
      expect(found.get(id(n))?.kind).toBe('agentIdentity');
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(fake.calls.map((c) => c.ids)).toEqual([[id(1)], [id(2)], [id(3)], [id(4)], [id(5)]]);
    // 10 ms apart: no call waited for a window.
    expect(fake.calls.map((c) => c.at - 1_000_000)).toEqual([0, 10, 20, 30, 40]);
  });

  it('in a burst, gathers the cases that arrive while a call is in flight into one call, then paces calls a window apart', async () => {
    const fake = fakeGraph();
    const resolver = new DirectoryResolver(fake.graph, WINDOW);
    fake.hold();
    const first = resolver.resolve([id(1)]);
    // Nine cases arrive while the first call is in flight, two of them naming the same agent.
    const burst = [2, 3, 4, 5, 6, 7, 8, 9, 9].map((n) => resolver.resolve([id(n), id(1)]));
    expect(fake.calls).toHaveLength(1);
    fake.open();
    await first;
    const answers = await Promise.all(burst);
    expect(fake.calls).toHaveLength(2);
    expect(new Set(fake.calls[1]?.ids)).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9].map(id)));
    // Each case gets exactly what it asked for.
    expect([...(answers[0]?.keys() ?? [])].sort()).toEqual([id(1), id(2)]);

    // The burst goes on: cases arriving now ride one call, a window after the last one went out.
    const sentAt = fake.calls[1]?.at ?? 0;
    const later = [10, 11, 12].map((n) => resolver.resolve([id(n)]));
    await vi.advanceTimersByTimeAsync(WINDOW - 1);
    expect(fake.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(later);
    expect(fake.calls).toHaveLength(3);
    expect(fake.calls[2]?.at).toBe(sentAt + WINDOW);
    expect(fake.calls[2]?.ids).toEqual([id(10), id(11), id(12)]);
  });

  it('ends the pacing once a call carries a single case again', async () => {
    const fake = fakeGraph();
    const resolver = new DirectoryResolver(fake.graph, WINDOW);
    fake.hold();
    const burst = [1, 2, 3].map((n) => resolver.resolve([id(n)]));
    fake.open();
    await Promise.all(burst);
    // Paced: the lone case after the burst waits for the window, once.
    const lone = resolver.resolve([id(4)]);
    await vi.advanceTimersByTimeAsync(WINDOW);
    await lone;
    await vi.advanceTimersByTimeAsync(5);
    await resolver.resolve([id(5)]);
    const calls = fake.calls.map((c) => c.at - 1_000_000);
    expect(calls).toEqual([0, 0, WINDOW, WINDOW + 5]);
  });

  it('never sends more than 1,000 ids in a call', async () => {
    const fake = fakeGraph();
    const resolver = new DirectoryResolver(fake.graph, WINDOW);
    fake.hold();
    const first = resolver.resolve([id(0)]);
    const big = [0, 1, 2].map((k) => resolver.resolve(Array.from({ length: 600 }, (_, i) => id(1 + k * 600 + i))));
    fake.open();
    await first;
    await vi.advanceTimersByTimeAsync(WINDOW * 3);
    await Promise.all(big);
    expect(fake.calls.map((c) => c.ids.length)).toEqual([1, 600, 600, 600]);
  });

  it('answers an id Graph does not know as absent, and a failed call as a failure for every case in it (never as "not found")', async () => {
    const fake = fakeGraph();
    const resolver = new DirectoryResolver(fake.graph, WINDOW);
    fake.unknown.add(id(2));
    const found = await resolver.resolve([id(1), id(2)]);
    expect([...found.keys()]).toEqual([id(1)]);

    fake.hold();
    const inFlight = resolver.resolve([id(3)]);
    const riding = [4, 5].map((n) => resolver.resolve([id(n)]));
    const outcomes = Promise.allSettled([inFlight, ...riding]);
    fake.failWith(new UpstreamError({ service: 'Graph', httpStatus: 429, transient: true, message: 'Too many requests' }), new UpstreamError({ service: 'Graph', httpStatus: 503, transient: true, message: 'Service unavailable' }));
    fake.open();
    const [first, ...others] = await outcomes;
    expect(first).toMatchObject({ status: 'rejected', reason: { httpStatus: 429, transient: true } });
    for (const r of others) {
      expect(r).toMatchObject({ status: 'rejected', reason: { httpStatus: 503, transient: true } });
    }
    expect(fake.calls.map((c) => c.ids)).toEqual([[id(1), id(2)], [id(3)], [id(4), id(5)]]);
    // The resolver is not stuck after failures.
    await vi.advanceTimersByTimeAsync(WINDOW);
    expect((await resolver.resolve([id(6)])).has(id(6))).toBe(true);
  });
});
