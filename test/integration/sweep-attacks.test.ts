import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recoverStuckCases, STUCK_AFTER_MS } from '../../shared/responder/recover-stuck-cases';
import { processCaseMessage } from '../../shared/responder/process-case-message';
import { QUEUES } from '../../shared/store/storage';
import { clearFaults } from '../helpers/announcements';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { postIncident, targetStatuses } from '../helpers/incident-runs';
import { generateAgents } from '../helpers/lifecycle-tenant';

// The timers' sweeps attacked as a failing cloud and an attacker would: the recovery of stuck cases, the approvals
// timer's expiry, and a Teams card given up that asks the timer to announce its request again.
let app: InProcessApp;

beforeAll(async () => {
  app = await startInProcessApp({ throughStorageProxy: true });
});
afterAll(async () => {
  await app?.stop();
});
afterEach(async () => {
  await clearFaults(app);
  await (await app.deps.storage.queue(QUEUES.containment)).clearMessages();
});

const MINUTE = 60_000;

// The emergency stop parks every case in the queue: its run stores `paused` and sends its message again every few
// seconds, its targets still pending. Recovery must not take such a case for one that lost its message: every run
// would add a message to the one already cycling, and over an hour-long stop each paused case would have dozens of
// messages running it every ten seconds (each taking its lease, those that find it busy counting towards the poison
// queue), all resuming at once when the stop is lifted.
describe('recovery during an emergency stop', () => {
  it('does not re-queue a paused case whose own message keeps it alive, and re-queues it once that message is lost', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    await app.deps.stop.set(true, 'drill', 'test');
    try {
      const message = await postIncident(app, 600, agent);
      await processCaseMessage(app.deps, message, app.inv);
      expect((await app.deps.cases.getCase(message.caseId))?.status).toBe('paused');
      expect(await targetStatuses(app, message.caseId)).toEqual(['pending']);
      for (let run = 0; run < 3; run++) {
        // Its message comes back every ten seconds and finds the stop still on; recovery runs every two minutes.
        app.clock.now += 2 * MINUTE;
        await processCaseMessage(app.deps, { caseId: message.caseId }, app.inv);
        expect((await recoverStuckCases(app.deps)).requeued).not.toContain(message.caseId);
      }
      // Its message lost (the queue dropped a send): recovery queues it again once it is left alone past the deadline.
      app.clock.now += STUCK_AFTER_MS + 1;
      expect((await recoverStuckCases(app.deps)).requeued).toContain(message.caseId);
    } finally {
      await app.deps.stop.set(false, 'drill over', 'test');
    }
  });
});
