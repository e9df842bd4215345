import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageGate } from '../../dev/storage-proxy';
import { requestRelease } from '../../shared/approvals/request-release';
import { expireApprovals } from '../../shared/approvals/expire-approvals';
import { runCase } from '../../shared/plans/run-case';
import { processCaseMessage } from '../../shared/responder/process-case-message';
import { recoverStuckCases } from '../../shared/responder/recover-stuck-cases';
import { failCase } from '../../shared/plans/fail-case';
import { APPROVAL_ROW } from '../../shared/approvals/approval-entity';
import { approvalColumns } from '../../shared/approvals/approval-columns';
import { PEOPLE } from '../helpers/approval-form';
import { signedInAs } from '../helpers/approval-sign-in';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { atDeadline, containedAgain, decideAndTakeMessage, decideAsSocLead, heldCase, ownerOf, postIncident, targetStatuses } from '../helpers/incident-runs';

// Storage (or the queue) fails the write that follows an approval's own state: the approval row stored, then its
// announcement; the decision stored, then the run that applies it; the expiry stored, then the run that ends the hold.
// What a person must see afterwards: a hold someone can still act on, or the identity given back (or contained) so a
// later incident about it acts.
let app: InProcessApp;

beforeAll(async () => {
  app = await startInProcessApp({ throughStorageProxy: true });
});
afterAll(async () => {
  await app?.stop();
});

const ticketNotes = (): string[] => app.sim.state.tickets.servicenow.flatMap((t) => t.journal.map((j) => String(j.value)));

/** The hold ended as `status` and its identity was given back, so a later incident about the agent acts. */
async function expectHoldEnded(caseId: string, agent: string, status: 'expired' | 'rejected'): Promise<void> {
  expect(await targetStatuses(app, caseId)).toEqual([status]);
  expect((await ownerOf(app, agent))?.caseId).toBeUndefined();
}

const dropQueueSends: StorageGate = (req) => Promise.resolve(req.service === 'queue' && req.method === 'POST' && req.shape === '/containment/messages' ? 'drop' : 'forward');

describe('a release request whose approval row is stored, and storage fails what follows it', () => {
  it('the retried request still tells the approvers (ticket note with the link, audit), not only the requester', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const message = await postIncident(app, 90, agent);
    await runCase(app.deps, app.deps.planners, message, app.inv);
    expect(await targetStatuses(app, message.caseId)).toEqual(['contained']);
    const requester = await signedInAs(app, PEOPLE.onCall);
    // Storage fails every audit write of the first request (the audit partition throttled); the approval row goes through.
    const gate: StorageGate = (req) => Promise.resolve(req.service === 'table' && req.method === 'POST' && (req.shape === '/audit' || req.shape === '/$batch') ? 'drop' : 'forward');
    await expect(app.withStorageGate(gate, () => requestRelease(app.deps, message.caseId, { targetId: agent, reason: 'false positive' }, requester))).rejects.toThrow();
    // The requester asks again (the page said it failed).
    const res = await requestRelease(app.deps, message.caseId, { targetId: agent, reason: 'false positive' }, requester);
    expect(res.approvalUrl).toBeDefined();
    expect(ticketNotes().some((n) => n.includes(res.approvalUrl ?? '?'))).toBe(true);
    const audited = (await app.deps.audit.list(message.caseId)).filter((e) => e.detail?.startsWith(res.approvalId) === true).map((e) => e.action);
    expect(audited).toContain('approval.requested');
  });
});

describe('a held target whose approval row is stored, and storage fails every write after it', () => {
  it('the retried run holds the target with that same approval, decidable through its link, and the approval contains it', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const config = app.deps.config;
    config.REQUIRE_APPROVAL_IDENTITIES = [agent];
    const message = await postIncident(app, 99, agent);
    let inserted = false;
    const gate: StorageGate = (req) => {
      if (req.service === 'table' && req.method === 'POST' && req.shape === '/approvals') {
        inserted = true;
        return Promise.resolve('forward');
      }
      return Promise.resolve(inserted && req.write ? 'drop' : 'forward');
    };
    try {
      await expect(app.withStorageGate(gate, () => runCase(app.deps, app.deps.planners, message, app.inv))).rejects.toThrow();
      expect(inserted).toBe(true);
      await runCase(app.deps, app.deps.planners, message, app.inv);
    } finally {
      config.REQUIRE_APPROVAL_IDENTITIES = [];
    }
    const held = (await app.deps.cases.load(message.caseId))?.targets[0];
    expect(held?.status).toBe('held');
    expect(await ownerOf(app, agent)).toMatchObject({ caseId: message.caseId, state: 'held' });
    expect((await app.approval(held?.approvalId ?? '')).status).toBe('pending');
    await decideAsSocLead(app, held?.approvalId ?? '', 'approve');
    await app.drainQueue();
    expect(await targetStatuses(app, message.caseId)).toEqual(['contained']);
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
  });
});

describe('a decision stored, and the queue fails the message that applies it', () => {
  it('the approvals timer queues it again, and the rejected hold gives the identity back', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 91, agent);
    await app.withStorageGate(dropQueueSends, () => decideAsSocLead(app, approvalId, 'reject'));
    expect((await app.approval(approvalId)).status).toBe('rejected');
    expect((await app.queuedMessages()).filter((m) => m['approvalId'] === approvalId)).toHaveLength(0);

    expect(await expireApprovals(app.deps)).toMatchObject({ requeued: 1 });
    await app.drainQueue();
    await expectHoldEnded(message.caseId, agent, 'rejected');
    await containedAgain(app, 92, agent);
  });
});

describe('an expiry stored, and what ends the hold fails', () => {
  it('the queue fails the message: a later timer run queues it again and the hold ends', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 93, agent);
    await atDeadline(app, approvalId);
    await app.withStorageGate(dropQueueSends, () => expireApprovals(app.deps)).catch(() => undefined);
    expect((await app.approval(approvalId)).status).toBe('expired');

    await expireApprovals(app.deps);
    await app.drainQueue();
    await expectHoldEnded(message.caseId, agent, 'expired');
    await containedAgain(app, 94, agent);
  });

  it('the ticket system is down: the expired hold still gives the identity back, so a later incident about it acts', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 95, agent);
    expect((await app.deps.cases.getCase(message.caseId))?.ticket?.provider).toBe('servicenow');
    await atDeadline(app, approvalId);
    app.sim.addFault({ path: '^/api/now/', status: 500, times: 100_000 });
    try {
      expect(await expireApprovals(app.deps)).toMatchObject({ expired: 1, escalated: 0 });
      await app.drainQueue();
      await expectHoldEnded(message.caseId, agent, 'expired');
    } finally {
      app.sim.clearFaults();
    }
    await containedAgain(app, 96, agent);
  });

  it('both: the queue fails the message of the expiry and the ticket system stays down: a later timer run still ends the hold', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 120, agent);
    await atDeadline(app, approvalId);
    app.sim.addFault({ path: '^/api/now/', status: 500, times: 100_000 });
    try {
      await app.withStorageGate(dropQueueSends, () => expireApprovals(app.deps)).catch(() => undefined);
      expect((await app.approval(approvalId)).status).toBe('expired');
      // The next run: the queue answers again, the ticket system still does not.
      await expireApprovals(app.deps);
      await app.drainQueue();
      await expectHoldEnded(message.caseId, agent, 'expired');
    } finally {
      app.sim.clearFaults();
    }
    await containedAgain(app, 121, agent);
  });
});

describe('the run that applies a decision keeps failing, and the host gives its message to the poison handler', () => {
  it('the poison handler applies the rejection: the hold ends and the identity is given back, so a later incident about it acts', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 97, agent);
    const rejected = await decideAndTakeMessage(app, approvalId, 'reject');
    // Every run of it failed (storage trouble) until maxDequeueCount: the message lands on the poison queue.
    await failCase(app.deps, rejected, app.inv);

    expect(await targetStatuses(app, message.caseId)).not.toEqual(['held']);
    expect((await ownerOf(app, agent))?.caseId).toBeUndefined();
    await containedAgain(app, 98, agent);
  });

  it('the poison handler applies a grant too: the hold ends failed with a manual ticket, and the identity is given back', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 100, agent);
    const approved = await decideAndTakeMessage(app, approvalId, 'approve');
    await failCase(app.deps, approved, app.inv);

    expect(await targetStatuses(app, message.caseId)).toEqual(['failed']);
    expect((await ownerOf(app, agent))?.caseId).toBeUndefined();
    await containedAgain(app, 101, agent);
  });
});

describe('the run that applies a decision loses its lease to another run of the case', () => {
  it('the decision is still applied: the rejected hold ends and the identity is given back', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 102, agent);
    const rejected = await decideAndTakeMessage(app, approvalId, 'reject');
    // Storage is slow to answer the run's read of the approval: its lease lapses, and another run of the case (a
    // wake-up, an update) takes the case meanwhile, without the approval.
    let held = false;
    const gate: StorageGate = (req) => {
      if (!held && req.service === 'table' && req.method === 'GET' && req.shape === '/approvals(…)') {
        held = true;
        return Promise.resolve({
          answerAfter: async () => {
            app.clock.now += (app.deps.config.CASE_LEASE_SECONDS + 1) * 1000;
            await runCase(app.deps, app.deps.planners, { caseId: message.caseId }, app.inv);
          },
        });
      }
      return Promise.resolve('forward');
    };
    await app.withStorageGate(gate, () => processCaseMessage(app.deps, rejected, app.inv));
    expect(held).toBe(true);

    // Whatever the timers do next, the decision must end the hold.
    app.clock.now += 15 * 60_000;
    await expireApprovals(app.deps);
    await recoverStuckCases(app.deps);
    await app.drainQueue();
    await expectHoldEnded(message.caseId, agent, 'rejected');
    await containedAgain(app, 103, agent);
  });
});

describe('an expiry the approvals timer cannot store or audit', () => {
  it('a row storage keeps failing does not stop the timer expiring the others in the same run, and the run says it failed', async () => {
    const agents = await generateAgents(app, { agents: 2 });
    const held = [];
    for (const [i, agent] of agents.entries()) {
      held.push(await heldCase(app, 140 + i, agent)); // one at a time: each sets the setting that holds it
    }
    // Rows are read in approval-id order: the first one read is the one that fails.
    const [failing = '', other = ''] = held.map((h) => h.approvalId).sort();
    app.clock.now = Math.max(...(await Promise.all(held.map(async (h) => (await app.approval(h.approvalId)).expiresAt))));
    const gate: StorageGate = (req) => Promise.resolve(req.write && req.path.includes(`approvals(PartitionKey='${failing}'`) ? 'drop' : 'forward');
    await expect(app.withStorageGate(gate, () => expireApprovals(app.deps))).rejects.toThrow(/1 approval/);
    expect((await app.approval(other)).status).toBe('expired');
    expect((await app.approval(failing)).status).toBe('pending');

    await expireApprovals(app.deps);
    await app.drainQueue();
    for (const h of held) {
      expect(await targetStatuses(app, h.message.caseId)).toEqual(['expired']);
    }
  });

  it('an expiry whose audit fails is audited by a later run, not stored unaudited', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 142, agent);
    await atDeadline(app, approvalId);
    const auditDown: StorageGate = (req) => Promise.resolve(req.service === 'table' && req.write && (req.shape === '/audit' || req.shape === '/$batch') ? 'drop' : 'forward');
    await expect(app.withStorageGate(auditDown, () => expireApprovals(app.deps))).rejects.toThrow();

    await expireApprovals(app.deps);
    await app.drainQueue();
    expect((await app.approval(approvalId)).status).toBe('expired');
    const expiries = (await app.deps.audit.list(message.caseId)).filter((e) => e.action === 'approval.expired' && e.detail?.startsWith(approvalId) === true);
    expect(expiries.length).toBeGreaterThanOrEqual(1);
    expect(await targetStatuses(app, message.caseId)).toEqual(['expired']);
  });
});

describe('a decision stored while the approvals timer expires the same approval', () => {
  it('the decision stands, the expiry is audited as withdrawn, and the run goes on', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 143, agent);
    const deadline = (await app.approval(approvalId)).expiresAt;
    app.clock.now = deadline;
    // The timer has read the approval as due, audited the expiry, and is about to store it; the SOC lead, whose page was
    // checked a second before the deadline, rejects it first.
    let decided = false;
    const gate: StorageGate = async (req) => {
      if (!decided && req.service === 'table' && req.method === 'PUT' && req.shape === '/approvals(…)') {
        decided = true;
        app.clock.now = deadline - 1000;
        await decideAsSocLead(app, approvalId, 'reject');
        app.clock.now = deadline;
      }
      return 'forward';
    };
    expect(await app.withStorageGate(gate, () => expireApprovals(app.deps))).toMatchObject({ expired: 0 });
    expect(decided).toBe(true);
    expect((await app.approval(approvalId)).status).toBe('rejected');
    const actions = (await app.deps.audit.list(message.caseId)).filter((e) => e.detail?.startsWith(approvalId) === true).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['approval.expired', 'approval.expiry-withdrawn']));
    await app.drainQueue();
    expect(await targetStatuses(app, message.caseId)).toEqual(['rejected']);
  });

  it('a write that decides nothing (an announcement recorded) does not stop the expiry, nor pass for a decision', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 144, agent);
    await atDeadline(app, approvalId);
    let recorded = false;
    const gate: StorageGate = async (req) => {
      if (!recorded && req.service === 'table' && req.method === 'PUT' && req.shape === '/approvals(…)') {
        recorded = true;
        const stored = await app.deps.approvals.get(approvalId, APPROVAL_ROW);
        const value = { ...(stored?.value ?? ({} as never)), announced: { mail: new Date(app.clock.now).toISOString() } };
        await app.deps.approvals.replace(approvalId, APPROVAL_ROW, value, stored?.etag, approvalColumns(value));
      }
      return 'forward';
    };
    expect(await app.withStorageGate(gate, () => expireApprovals(app.deps))).toMatchObject({ expired: 1 });
    expect(recorded).toBe(true);
    expect((await app.approval(approvalId)).status).toBe('expired');
    const actions = (await app.deps.audit.list(message.caseId)).filter((e) => e.detail?.startsWith(approvalId) === true).map((e) => e.action);
    expect(actions).not.toContain('approval.expiry-withdrawn');
    await app.drainQueue();
    expect(await targetStatuses(app, message.caseId)).toEqual(['expired']);
  });
});
