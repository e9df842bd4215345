import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StorageGate } from '../../dev/storage-proxy';
import { APPROVAL_ROW } from '../../shared/approvals/approval-entity';
import { expireApprovals } from '../../shared/approvals/expire-approvals';
import { processCaseMessage } from '../../shared/responder/process-case-message';
import { recoverStuckCases, STUCK_AFTER_MS } from '../../shared/responder/recover-stuck-cases';
import { QUEUES, TABLES } from '../../shared/store/storage';
import { TEAMS_QUEUE } from '../../shared/store/teams-card-queue';
import { deliverTeamsCard, TEAMS_MAX_ATTEMPTS } from '../../shared/teams/deliver-teams-card';
import { cardsFor } from '../helpers/announcements';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { atDeadline, decideAsSocLead, heldCase, postIncident, targetStatuses } from '../helpers/incident-runs';
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
  app.sim.clearFaults();
  await (await app.deps.storage.queue(QUEUES.containment)).clearMessages();
  await (await app.deps.storage.queue(TEAMS_QUEUE)).clearMessages();
  app.sim.teams.clear();
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

const rowPath = (approvalId: string): string => `approvals(PartitionKey='${approvalId}'`;
const isRowWrite = (req: { service: string; method: string; path: string }, approvalId: string): boolean => req.service === 'table' && req.method === 'PUT' && req.path.includes(rowPath(approvalId));
/** What the approval row's `status` column says (what the timer's queries see), beside the record's own status. */
async function statusColumn(approvalId: string): Promise<unknown> {
  const table = await app.deps.storage.table(TABLES.approvals);
  return (await table.getEntity<{ status: string }>(approvalId, APPROVAL_ROW)).status;
}
const postedFor = (approvalId: string): number => app.sim.teams.cards().filter((c) => JSON.stringify(c).includes(approvalId)).length;
const auditedFor = async (caseId: string, approvalId: string): Promise<string[]> =>
  (await app.deps.audit.list(caseId)).filter((e) => e.detail?.startsWith(approvalId) === true).map((e) => e.action);

/** A held case whose request card the trigger took (the queue is empty), Teams failing its last attempt. */
async function cardOnItsLastAttempt(n: number): Promise<{ caseId: string; approvalId: string }> {
  const [agent = ''] = await generateAgents(app, { agents: 1 });
  const { message, approvalId } = await heldCase(app, n, agent);
  expect(await cardsFor(app, approvalId)).toEqual(['requested']);
  await (await app.deps.storage.queue(TEAMS_QUEUE)).clearMessages();
  expect((await app.approval(approvalId)).announced?.teams).toBeDefined();
  app.sim.teams.behave({ failures: [{ status: 503 }] });
  return { caseId: message.caseId, approvalId };
}

describe('an expiry whose stored answer is lost', () => {
  it('the retry meets its own row: expired once, audited once, never taken for a decision', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 610, agent);
    await atDeadline(app, approvalId);
    let lost = false;
    const gate: StorageGate = (req) => {
      if (!lost && isRowWrite(req, approvalId)) {
        lost = true;
        return Promise.resolve('lose-answer');
      }
      return Promise.resolve('forward');
    };
    expect(await app.withStorageGate(gate, () => expireApprovals(app.deps))).toMatchObject({ expired: 1 });
    expect(lost).toBe(true);
    expect((await app.approval(approvalId)).status).toBe('expired');
    const audited = await auditedFor(message.caseId, approvalId);
    expect(audited.filter((a) => a === 'approval.expired')).toHaveLength(1);
    expect(audited).not.toContain('approval.expiry-withdrawn');
    await expireApprovals(app.deps);
    expect((await auditedFor(message.caseId, approvalId)).filter((a) => a === 'approval.expired')).toHaveLength(1);
    await app.drainQueue();
    expect(await targetStatuses(app, message.caseId)).toEqual(['expired']);
  });
});

describe('a request card given up while the approval is decided or expired', () => {
  it('a rejection stored between the give-up reading the row and forgetting the card stands; nothing is announced again', async () => {
    const { caseId, approvalId } = await cardOnItsLastAttempt(611);
    let decided = false;
    const gate: StorageGate = async (req) => {
      if (!decided && isRowWrite(req, approvalId)) {
        decided = true;
        await decideAsSocLead(app, approvalId, 'reject');
      }
      return 'forward';
    };
    await app.withStorageGate(gate, () => deliverTeamsCard(app.deps, { approvalId, event: 'requested', attempt: TEAMS_MAX_ATTEMPTS }));
    expect(decided).toBe(true);
    const approval = await app.approval(approvalId);
    expect(approval).toMatchObject({ status: 'rejected', decisions: [expect.objectContaining({ decision: 'reject' })] });
    expect(await statusColumn(approvalId)).not.toBe('pending');
    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    expect(await cardsFor(app, approvalId)).not.toContain('requested');
    await app.drainQueue();
    expect(await targetStatuses(app, caseId)).toEqual(['rejected']);
  });

  it('an expiry stored between the give-up reading the row and forgetting the card stands, escalated', async () => {
    const { caseId, approvalId } = await cardOnItsLastAttempt(612);
    const deadline = (await app.approval(approvalId)).expiresAt;
    app.clock.now = deadline - 1000;
    let expired = false;
    const gate: StorageGate = async (req) => {
      if (!expired && isRowWrite(req, approvalId)) {
        expired = true;
        app.clock.now = deadline;
        await expireApprovals(app.deps);
      }
      return 'forward';
    };
    await app.withStorageGate(gate, () => deliverTeamsCard(app.deps, { approvalId, event: 'requested', attempt: TEAMS_MAX_ATTEMPTS }));
    expect(expired).toBe(true);
    expect((await app.approval(approvalId)).status).toBe('expired');
    expect(await statusColumn(approvalId)).not.toBe('pending');
    expect((await auditedFor(caseId, approvalId)).filter((a) => a === 'approval.expired')).toHaveLength(1);
    await app.drainQueue();
    expect(await targetStatuses(app, caseId)).toEqual(['expired']);
  });

  it('an outcome card given up is not announced again, and the decided row is left as it is', async () => {
    const { approvalId } = await cardOnItsLastAttempt(613);
    app.sim.teams.clear();
    await decideAsSocLead(app, approvalId, 'reject');
    const before = await app.deps.approvals.get(approvalId, APPROVAL_ROW);
    app.sim.teams.behave({ failures: [{ status: 503 }] });
    await deliverTeamsCard(app.deps, { approvalId, event: 'outcome', attempt: TEAMS_MAX_ATTEMPTS });
    expect(postedFor(approvalId)).toBe(0);
    expect((await app.deps.approvals.get(approvalId, APPROVAL_ROW))?.etag).toBe(before?.etag);
    await (await app.deps.storage.queue(TEAMS_QUEUE)).clearMessages();
    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    expect(await cardsFor(app, approvalId)).toEqual([]);
  });

  it('a request card past its deadline, not yet expired, is dropped without a post and without forgetting it; the timer sends the outcome only', async () => {
    const { approvalId } = await cardOnItsLastAttempt(614);
    app.sim.teams.clear();
    await atDeadline(app, approvalId);
    const before = await app.deps.approvals.get(approvalId, APPROVAL_ROW);
    await deliverTeamsCard(app.deps, { approvalId, event: 'requested', attempt: TEAMS_MAX_ATTEMPTS });
    expect(app.sim.teams.posts).toHaveLength(0);
    expect((await app.deps.approvals.get(approvalId, APPROVAL_ROW))?.etag).toBe(before?.etag);
    await expireApprovals(app.deps);
    expect(await cardsFor(app, approvalId)).toEqual(['outcome']);
  });
});

describe('a request card given up, and storage failing what forgets it', () => {
  it('the host retries the message: Teams answering by then, the card is posted once and not queued again', async () => {
    const { approvalId } = await cardOnItsLastAttempt(615);
    const rowDown: StorageGate = (req) => Promise.resolve(isRowWrite(req, approvalId) ? 'drop' : 'forward');
    const message = { approvalId, event: 'requested' as const, attempt: TEAMS_MAX_ATTEMPTS };
    await expect(app.withStorageGate(rowDown, () => deliverTeamsCard(app.deps, message))).rejects.toThrow();
    await deliverTeamsCard(app.deps, message);
    expect(postedFor(approvalId)).toBe(1);
    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    expect(await cardsFor(app, approvalId)).toEqual([]);
  });

  it('the host retries the message: Teams still out, the card is forgotten then, and the timer queues it once', async () => {
    const { approvalId } = await cardOnItsLastAttempt(616);
    const rowDown: StorageGate = (req) => Promise.resolve(isRowWrite(req, approvalId) ? 'drop' : 'forward');
    const message = { approvalId, event: 'requested' as const, attempt: TEAMS_MAX_ATTEMPTS };
    await expect(app.withStorageGate(rowDown, () => deliverTeamsCard(app.deps, message))).rejects.toThrow();
    app.sim.teams.behave({ failures: [{ status: 503 }] });
    await deliverTeamsCard(app.deps, message);
    expect(postedFor(approvalId)).toBe(0);
    expect((await app.approval(approvalId)).announced?.teams).toBeUndefined();
    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    await expireApprovals(app.deps);
    expect(await cardsFor(app, approvalId)).toEqual(['requested']);
  });
});
