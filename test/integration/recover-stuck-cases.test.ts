import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEMO } from '../../dev/simulator/demo-ids';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { recoverStuckCases, STUCK_AFTER_MS } from '../../shared/responder/recover-stuck-cases';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';

const INCIDENT = readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8');

describe('recovering cases that lost their queue message', () => {
  let app: InProcessApp;
  beforeAll(async () => {
    app = await startInProcessApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('re-queues a recorded case whose message never reached the queue, and it is then contained', async () => {
    // The intake recorded the case, but the queue write (the output binding) never happened.
    const intake = await acceptAlert(app.deps, parseAlert(JSON.parse(INCIDENT) as unknown), INCIDENT, undefined);
    expect(await app.queuedMessages()).toEqual([]);

    expect((await recoverStuckCases(app.deps)).requeued).toEqual([]); // too recent to call stuck
    app.clock.now += STUCK_AFTER_MS + 1;
    expect((await recoverStuckCases(app.deps)).requeued).toEqual([intake.caseId]);

    expect(await app.drainQueue()).toBe(1);
    expect(app.sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(false);
    expect((await app.deps.cases.getCase(intake.caseId))?.status).toBe('done');
    expect((await recoverStuckCases(app.deps)).requeued).toEqual([]);
  });
});
