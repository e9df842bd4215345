import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInventoryPath } from '../../shared/graph/agent-inventory';
import { SweepCheckpoint } from '../../shared/lifecycle/sweep-checkpoint';
import { SWEEP_LEASE_MS } from '../../shared/lifecycle/run-lifecycle-sweep';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { loseFirstAnswer } from '../helpers/lose-answer';
import { generateAgents, lifecycleExpectations, sweep, ticketKeys, warnings } from '../helpers/lifecycle-tenant';

/** First-page GETs and nextLink GETs of the inventory lists the simulator answered. */
function pageReads(app: InProcessApp): number {
  return app.sim.calls.filter((c) => c.method === 'GET' && c.batchId === undefined && isInventoryPath(c.path.replace(/^\/v1\.0/, ''))).length;
}

function orphanTickets(app: InProcessApp): string[] {
  return ticketKeys(app).filter((k) => k.startsWith('agent-responders:orphan:'));
}

describe('a lifecycle sweep cut short, and overlapping runs', () => {
  let app: InProcessApp;
  let checkpoint: SweepCheckpoint;

  beforeAll(async () => {
    app = await startInProcessApp({ env: { LIFECYCLE_EXPIRY_ATTRIBUTE: 'AgentLifecycle.ExpiresOn' }, throughStorageProxy: true });
    await generateAgents(app, { agents: 250, expiringFraction: 0.2, orphanFraction: 0.1 });
    checkpoint = await SweepCheckpoint.open(app.deps.storage);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('stops when its time budget is spent and the next runs finish the same sweep, reading each page once', async () => {
    const expected = lifecycleExpectations(app);
    const first = await sweep(app, { budgetMs: 0 });
    expect(first).toMatchObject({ outcome: 'paused', pages: 1, agentsSeen: 100, runs: 1 });
    expect(await checkpoint.read()).toMatchObject({ sweepId: first.sweepId, status: 'running', leaseUntil: 0 });

    let last = first;
    for (let run = 0; run < 10 && last.outcome !== 'done'; run++) {
      last = await sweep(app, { budgetMs: 0 });
      expect(last.sweepId).toBe(first.sweepId);
    }
    // 254 agent identities (3 pages), the blueprint principal, the tagged classic service principal.
    expect(last).toMatchObject({ outcome: 'done', pages: 5, runs: 5, agentsSeen: expected.all.length, errors: 0 });
    expect(last.expiring).toBe(expected.expiring.length);
    expect(pageReads(app)).toBe(5);
    expect(warnings(app)).toHaveLength(expected.expiring.length);
    expect(orphanTickets(app)).toHaveLength(expected.orphans.length);
  });

  it('waits while a killed run still holds the lease, then resumes from its last checkpoint', async () => {
    const started = await sweep(app, { budgetMs: 0 });
    expect(started.outcome).toBe('paused');
    // A run resumes the sweep and is killed (function time limit) before its first checkpoint.
    const killed = await checkpoint.acquire('killed-run', 'enforce', app.clock.now, SWEEP_LEASE_MS);
    expect(killed).toMatchObject({ busy: false, resumed: true });

    const readsBefore = pageReads(app);
    const blocked = await sweep(app);
    expect(blocked).toMatchObject({ outcome: 'busy', sweepId: started.sweepId });
    expect(pageReads(app)).toBe(readsBefore);

    app.clock.now += SWEEP_LEASE_MS + 1;
    const resumed = await sweep(app);
    expect(resumed).toMatchObject({ outcome: 'done', sweepId: started.sweepId, runs: 3, pages: 5, agentsSeen: lifecycleExpectations(app).all.length });
    expect(pageReads(app)).toBe(readsBefore + 4);
  });

  it('goes on when a checkpoint was stored but its answer was lost: its own save is not another run taking over', async () => {
    await generateAgents(app, { agents: 150, expiringFraction: 0.2 });
    // The run's first write takes the lease; the second is its first checkpoint, whose answer is lost.
    let writes = 0;
    const { gate, lost } = loseFirstAnswer((req) => req.service === 'table' && req.method === 'PUT' && req.shape.startsWith('/sweeps(') && ++writes === 2);
    const run = await app.withStorageGate(gate, () => sweep(app));
    expect(lost()).toBe(1);
    expect(run).toMatchObject({ outcome: 'done', errors: 0 });
    expect(await checkpoint.read()).toMatchObject({ sweepId: run.sweepId, status: 'done' });
  });

  it('lets only one of two overlapping runs work; the other stands back', async () => {
    const ids = await generateAgents(app, { agents: 40, expiringFraction: 0.5, orphanFraction: 0.25 });
    const mails = warnings(app).length;
    const tickets = orphanTickets(app).length;
    const [a, b] = await Promise.all([sweep(app), sweep(app)]);
    expect([a.outcome, b.outcome].sort()).toEqual(['busy', 'done']);
    expect(warnings(app)).toHaveLength(mails + 20);
    expect(orphanTickets(app)).toHaveLength(tickets + 10);
    expect(ids).toHaveLength(40);
  });

  it('never acts twice when a slow run loses its lease to the next run and both work on the same pages', async () => {
    await generateAgents(app, { agents: 200, expiringFraction: 0.3, orphanFraction: 0.2 });
    const expected = lifecycleExpectations(app);
    app.sim.setKnobs({ latencyMs: 15 });
    try {
      const slow = sweep(app);
      // Once the slow run checkpointed its first page, its lease lapses (the clock jumps) and another run takes over.
      const checkpointed = async () => {
        const state = await checkpoint.read();
        return state?.status === 'running' && state.pages >= 1;
      };
      for (let i = 0; i < 400 && !(await checkpointed()); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      // The slow run may renew its lease just after the jump; then jump again (a busy run does nothing).
      let second = await (async () => {
        app.clock.now += SWEEP_LEASE_MS + 1;
        return sweep(app);
      })();
      for (let i = 0; i < 5 && second.outcome === 'busy'; i++) {
        app.clock.now += SWEEP_LEASE_MS + 1;
        second = await sweep(app);
      }
      const first = await slow;
      expect(first.outcome).toBe('lease-lost');
      expect(second).toMatchObject({ outcome: 'done', sweepId: first.sweepId });
    } finally {
      app.sim.setKnobs({ latencyMs: 0 });
    }
    // Every expiring agent warned once, every orphan ticketed once, over all sweeps of this file.
    const subjects = warnings(app).map((m) => m.subject);
    expect(new Set(subjects).size).toBe(subjects.length);
    expect(subjects).toHaveLength(expected.expiring.length);
    const orphans = orphanTickets(app);
    expect(new Set(orphans).size).toBe(orphans.length);
    expect(orphans).toHaveLength(expected.orphans.length);
  });
});
