import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepSummary } from '../../shared/lifecycle/run-lifecycle-sweep';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents, graphWrites, lifecycleExpectations, sweep } from '../helpers/lifecycle-tenant';

describe('lifecycle sweep in report-only mode', () => {
  let app: InProcessApp;
  let expected: ReturnType<typeof lifecycleExpectations>;
  let first: SweepSummary;

  beforeAll(async () => {
    app = await startInProcessApp({
      env: { RESPONDER_MODE: 'report-only', LIFECYCLE_EXPIRY_ATTRIBUTE: 'AgentLifecycle.ExpiresOn', LIFECYCLE_DELETE_ENABLED: 'true' },
    });
    await generateAgents(app, { agents: 200, expiredFraction: 0.1, expiringFraction: 0.1, orphanFraction: 0.05 });
    expected = lifecycleExpectations(app);
    first = await sweep(app);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('counts what it would do for every rule', () => {
    expect(first).toMatchObject({
      outcome: 'done',
      mode: 'report-only',
      agentsSeen: expected.all.length,
      expiring: expected.expiring.length,
      expired: expected.expired.length,
      orphaned: expected.orphans.length,
      errors: 0,
    });
    expect(first.actions).toMatchObject({
      warned: expected.expiring.length,
      disableCases: expected.expired.length,
      deleteCases: expected.pastGrace.length,
      orphanTickets: expected.orphans.length,
    });
  });

  it('lists each would-be action in the audit table', async () => {
    const entries = await app.deps.audit.list(`sweep:${first.sweepId}`);
    expect(entries).toHaveLength(first.actions.total);
    expect(entries.every((e) => e.result === 'would-do' && e.detail?.startsWith('report-only: would '))).toBe(true);
    const disables = entries.filter((e) => e.action === 'lifecycle.disable').map((e) => e.targetId);
    expect(disables.sort()).toEqual([...expected.expired].sort());
  });

  it('changes nothing: no Graph write, no mail, no ticket, no case', async () => {
    expect(graphWrites(app)).toEqual([]);
    expect(app.sim.state.mail).toEqual([]);
    expect(app.sim.state.tickets.servicenow).toEqual([]);
    expect(await app.queuedMessages()).toEqual([]);
    expect(await app.deps.cases.casesWithStatus('received')).toEqual([]);
    for (const id of expected.expired) {
      expect(app.sim.state.get(id)?.accountEnabled).toBe(true);
    }
  });

  it('lists the same again on the next sweep, since it claimed nothing', async () => {
    const second = await sweep(app);
    expect(second.sweepId).not.toBe(first.sweepId);
    expect(second.actions).toEqual(first.actions);
    expect(second.alreadyHandled).toBe(0);
  });
});
