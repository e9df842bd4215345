import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StorageGate } from '../../dev/storage-proxy';
import { APPROVAL_ROW } from '../../shared/approvals/approval-entity';
import { approvalColumns } from '../../shared/approvals/approval-columns';
import { approvalLink } from '../../shared/approvals/approval-link';
import { expireApprovals } from '../../shared/approvals/expire-approvals';
import { requestApproval } from '../../shared/approvals/request-approval';
import { requestRelease } from '../../shared/approvals/request-release';
import { QUEUES } from '../../shared/store/storage';
import { deliverTeamsCard, TEAMS_MAX_ATTEMPTS } from '../../shared/teams/deliver-teams-card';
import { TEAMS_QUEUE } from '../../shared/store/teams-card-queue';
import { PEOPLE } from '../helpers/approval-form';
import { signedInAs } from '../helpers/approval-sign-in';
import { cardsFor, commentsWith, containedAgent, mailsWith, ticketNotesWith } from '../helpers/announcements';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { atDeadline, decideAsSocLead, heldCase } from '../helpers/incident-runs';
import { generateAgents } from '../helpers/lifecycle-tenant';

// An approval nobody hears about waits for its deadline: the request is stored, and the channels that carry its link
// to the approvers (Teams, mail, the ticket and the incident) fail or the process dies before they are used. The
// approvals timer (and a retried request) tells the approvers on each channel still missing, once. Then the attacks on
// that record: decisions racing it, storage losing or dropping its answer, Graph failing to name the approvers, one
// request's failure in the approvals timer, a request retried past its deadline, two requests for one release at once.
let app: InProcessApp;
let teamsWebhook: string | undefined;

beforeAll(async () => {
  app = await startInProcessApp({ throughStorageProxy: true });
  teamsWebhook = app.deps.config.TEAMS_WEBHOOK_URL;
});
afterAll(async () => {
  await app?.stop();
});
afterEach(async () => {
  app.sim.clearFaults();
  app.deps.config.TEAMS_WEBHOOK_URL = teamsWebhook;
  // Every request a test left pending is announced on every channel now, so the next test's timer runs (and the
  // storage writes its gates count) concern its own requests only.
  app.clock.now += 3 * MINUTE;
  await expireApprovals(app.deps);
  await (await app.deps.storage.queue(TEAMS_QUEUE)).clearMessages();
  await (await app.deps.storage.queue(QUEUES.containment)).clearMessages();
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const mailDown = (): void => app.sim.addFault({ method: 'POST', path: 'sendMail$', status: 500, times: 100_000 });
const isApprovalWrite = (req: { service: string; method: string; shape: string }): boolean => req.service === 'table' && req.method === 'PUT' && req.shape === '/approvals(…)';

/** Everything that carries a link fails: the ticket system, the incident's comments, the mailbox. */
function everyChannelDown(): void {
  app.sim.addFault({ path: '^/api/now/', status: 500, times: 100_000 });
  app.sim.addFault({ method: 'PUT', path: '/comments/', status: 500, times: 100_000 });
  app.sim.addFault({ method: 'POST', path: 'sendMail$', status: 500, times: 100_000 });
}

describe('a release request whose every announcement failed', () => {
  it('is announced by the approvals timer on each channel once they answer, after a grace for the request in flight, and only once', async () => {
    const { agent, caseId } = await containedAgent(app, 130);
    everyChannelDown();
    const res = await requestRelease(app.deps, caseId, { targetId: agent, reason: 'false positive' }, await signedInAs(app, PEOPLE.onCall));
    const link = res.approvalUrl ?? '?';
    expect(res).toMatchObject({ created: true, status: 'pending' });
    app.sim.clearFaults();
    expect([ticketNotesWith(app, link), commentsWith(app, link), mailsWith(app, link)].map((x) => x.length)).toEqual([0, 0, 0]);

    // Within the grace the request may still be announcing itself: the timer leaves it.
    await expireApprovals(app.deps);
    expect(mailsWith(app, link)).toHaveLength(0);

    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    expect([ticketNotesWith(app, link), commentsWith(app, link), mailsWith(app, link)].map((x) => x.length)).toEqual([1, 1, 1]);
    const again = await expireApprovals(app.deps);
    expect(again).toMatchObject({ expired: 0 });
    expect([ticketNotesWith(app, link), commentsWith(app, link), mailsWith(app, link)].map((x) => x.length)).toEqual([1, 1, 1]);
    expect((await app.approval(res.approvalId)).status).toBe('pending');
  });

  it('is announced at once when the requester asks again, on the channels still missing', async () => {
    const { agent, caseId } = await containedAgent(app, 131);
    const requester = await signedInAs(app, PEOPLE.onCall);
    app.sim.addFault({ path: '^/api/now/', status: 500, times: 100_000 });
    const first = await requestRelease(app.deps, caseId, { targetId: agent, reason: 'false positive' }, requester);
    const link = first.approvalUrl ?? '?';
    expect(ticketNotesWith(app, link)).toHaveLength(0);
    expect(mailsWith(app, link)).toHaveLength(1);
    app.sim.clearFaults();

    const second = await requestRelease(app.deps, caseId, { targetId: agent, reason: 'false positive' }, requester);
    expect(second).toMatchObject({ approvalId: first.approvalId, created: false });
    expect([ticketNotesWith(app, link), commentsWith(app, link), mailsWith(app, link)].map((x) => x.length)).toEqual([1, 1, 1]);
  });
});

describe('a held containment whose announcement failed', () => {
  it('the queue dropped its Teams card and the mailbox failed: the timer sends both, once', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    expect(app.deps.config.TEAMS_WEBHOOK_URL).toBe(app.sim.teamsWebhookUrl); // the Teams channel is on
    const dropCards: StorageGate = (req) => Promise.resolve(req.service === 'queue' && req.method === 'POST' && req.shape === `/${TEAMS_QUEUE}/messages` ? 'drop' : 'forward');
    app.sim.addFault({ method: 'POST', path: 'sendMail$', status: 500, times: 100_000 });
    const { approvalId } = await app.withStorageGate(dropCards, () => heldCase(app, 132, agent));
    app.sim.clearFaults();
    expect(await cardsFor(app, approvalId)).toEqual([]);
    const link = approvalLink(app.deps.config, await app.approval(approvalId)) ?? '?';
    expect(mailsWith(app, link)).toHaveLength(0);

    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    expect(await cardsFor(app, approvalId)).toEqual(['requested']);
    expect(mailsWith(app, link)).toHaveLength(1);
    await expireApprovals(app.deps);
    expect(await cardsFor(app, approvalId)).toEqual(['requested']);
    expect(mailsWith(app, link)).toHaveLength(1);
  });

  it('a request already decided, or stored before announcements were recorded, is not announced again', async () => {
    const [agent = '', other = ''] = await generateAgents(app, { agents: 2 });
    app.sim.addFault({ method: 'POST', path: 'sendMail$', status: 500, times: 100_000 });
    const decided = await heldCase(app, 133, agent);
    const legacy = await heldCase(app, 134, other);
    app.sim.clearFaults();
    const stored = await app.deps.approvals.get(legacy.approvalId, APPROVAL_ROW);
    // As a row stored by the version before: no record of its announcements (JSON drops the undefined).
    const older = { ...(stored?.value ?? ({} as never)), announced: undefined };
    await app.deps.approvals.replace(legacy.approvalId, APPROVAL_ROW, older, stored?.etag, approvalColumns(older));
    await decideAsSocLead(app, decided.approvalId, 'reject');
    const mails = app.sim.state.mail.length;

    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    expect(app.sim.state.mail.length).toBe(mails);
  });
});

async function linkOf(approvalId: string): Promise<string> {
  return approvalLink(app.deps.config, await app.approval(approvalId)) ?? '?';
}

/** A held containment whose mail failed: pending, its link mailed to nobody, `announced.mail` missing. */
async function heldUnmailed(n: number): Promise<{ approvalId: string; link: string; caseId: string }> {
  const [agent = ''] = await generateAgents(app, { agents: 1 });
  mailDown();
  const { approvalId, message } = await heldCase(app, n, agent);
  app.sim.clearFaults();
  const link = await linkOf(approvalId);
  expect(mailsWith(app, link)).toHaveLength(0);
  expect((await app.approval(approvalId)).announced?.mail).toBeUndefined();
  return { approvalId, link, caseId: message.caseId };
}


/** The `status` column the approvals timer and the queries go by (not the record's own status). */
async function statusColumnOf(approvalId: string): Promise<string | undefined> {
  const table = await app.deps.storage.table('approvals');
  const row = await table.getEntity<{ status?: string }>(approvalId, APPROVAL_ROW);
  return row.status;
}

describe('a decision and the announcement record racing', () => {
  it('a decision that lands while the timer records the announcement wins: the record does not overwrite it, and nothing is announced again', async () => {
    const { approvalId, link } = await heldUnmailed(300);
    app.clock.now += 3 * MINUTE;
    let fired = false;
    // The timer has mailed the approvers; before its record reaches storage, the SOC lead rejects.
    const decideFirst: StorageGate = async (req) => {
      if (!fired && isApprovalWrite(req) && mailsWith(app, link).length > 0) {
        fired = true;
        await decideAsSocLead(app, approvalId, 'reject');
      }
      return 'forward';
    };
    await app.withStorageGate(decideFirst, () => expireApprovals(app.deps));
    expect(fired).toBe(true);
    const after = await app.approval(approvalId);
    expect(after).toMatchObject({ status: 'rejected' });
    expect(after.decisions).toHaveLength(1);
    expect(await statusColumnOf(approvalId)).toBe('action-queued');
    expect(mailsWith(app, link)).toHaveLength(1);

    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    expect(mailsWith(app, link)).toHaveLength(1);
    expect(await app.approval(approvalId)).toMatchObject({ status: 'rejected' });
  });

  it('a decision read before the announcement was recorded is applied on top of the record, not lost', async () => {
    const { approvalId, link } = await heldUnmailed(301);
    app.clock.now += 3 * MINUTE;
    let fired = false;
    // The SOC lead's decision read the row; before its write reaches storage, the timer announces and records.
    const announceFirst: StorageGate = async (req) => {
      if (!fired && isApprovalWrite(req)) {
        fired = true;
        await expireApprovals(app.deps);
      }
      return 'forward';
    };
    await app.withStorageGate(announceFirst, () => decideAsSocLead(app, approvalId, 'approve'));
    expect(fired).toBe(true);
    const after = await app.approval(approvalId);
    expect(after).toMatchObject({ status: 'approved' });
    expect(after.decisions).toHaveLength(1);
    expect(after.announced?.mail).toBeDefined();
    expect(await statusColumnOf(approvalId)).toBe('action-queued');
    expect(mailsWith(app, link)).toHaveLength(1);
  });
});

describe('storage failing under the announcement record', () => {
  it('the record stored and its answer lost: nothing escapes, the record holds, the next run sends nothing again', async () => {
    const { approvalId, link } = await heldUnmailed(310);
    app.clock.now += 3 * MINUTE;
    let lost = false;
    // The approval written once the mail went is the record (whatever the timer wrote on the row before).
    const loseRecord: StorageGate = (req) => {
      const lose = !lost && isApprovalWrite(req) && mailsWith(app, link).length > 0;
      lost ||= lose;
      return Promise.resolve(lose ? 'lose-answer' : 'forward');
    };
    const res = await app.withStorageGate(loseRecord, () => expireApprovals(app.deps));
    expect(res.announced).toBe(1);
    expect((await app.approval(approvalId)).announced?.mail).toBeDefined();
    expect(mailsWith(app, link)).toHaveLength(1);
    await expireApprovals(app.deps);
    expect(mailsWith(app, link)).toHaveLength(1);
  });

  it('the record never reaching storage: nothing escapes, the next run mails again (at most once more)', async () => {
    const { approvalId, link } = await heldUnmailed(311);
    app.clock.now += 3 * MINUTE;
    const dropRecords: StorageGate = (req) => Promise.resolve(isApprovalWrite(req) && mailsWith(app, link).length > 0 ? 'drop' : 'forward');
    await app.withStorageGate(dropRecords, () => expireApprovals(app.deps));
    expect((await app.approval(approvalId)).announced?.mail).toBeUndefined();
    expect(mailsWith(app, link)).toHaveLength(1);
    await expireApprovals(app.deps);
    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    await expireApprovals(app.deps);
    // Behaviour pinned, not a wish: with no record the timer cannot know the mail went, and mails it once more.
    expect(mailsWith(app, link)).toHaveLength(2);
    expect((await app.approval(approvalId)).announced?.mail).toBeDefined();
  });
});

describe('approvers that cannot be named', () => {
  it('Graph failing getByIds is never recorded as mailed; the timer mails once Graph answers', async () => {
    const { agent, caseId } = await containedAgent(app, 320);
    app.sim.addFault({ method: 'POST', path: 'getByIds$', status: 503, times: 100_000 });
    const res = await requestRelease(app.deps, caseId, { targetId: agent, reason: 'false positive' }, await signedInAs(app, PEOPLE.onCall));
    const link = res.approvalUrl ?? '?';
    expect((await app.approval(res.approvalId)).announced?.mail).toBeUndefined();
    expect(mailsWith(app, link)).toHaveLength(0);

    app.clock.now += 3 * MINUTE;
    await expect(expireApprovals(app.deps)).resolves.toMatchObject({ announced: 0 });
    expect((await app.approval(res.approvalId)).announced?.mail).toBeUndefined();
    app.sim.clearFaults();
    await expireApprovals(app.deps);
    await expireApprovals(app.deps);
    expect(mailsWith(app, link)).toHaveLength(1);
    expect((await app.approval(res.approvalId)).announced?.mail).toBeDefined();
  });
});

describe('the approvals timer with one request failing', () => {
  it('a mail failing for one request does not stop the others; each is mailed exactly once over two runs', async () => {
    const a = await heldUnmailed(330);
    const b = await heldUnmailed(331);
    app.clock.now += 3 * MINUTE;
    app.sim.addFault({ method: 'POST', path: 'sendMail$', status: 503, times: 1 });
    const first = await expireApprovals(app.deps);
    expect(first.announced).toBe(1);
    expect(mailsWith(app, a.link).length + mailsWith(app, b.link).length).toBe(1);
    await expireApprovals(app.deps);
    expect([mailsWith(app, a.link).length, mailsWith(app, b.link).length]).toEqual([1, 1]);
  });

  it('a release whose incident comment failed gets it from the timer, the ticket note (taken the first time) not doubled', async () => {
    const { agent, caseId } = await containedAgent(app, 332);
    app.sim.addFault({ method: 'PUT', path: '/comments/', status: 500, times: 100_000 });
    const res = await requestRelease(app.deps, caseId, { targetId: agent, reason: 'false positive' }, await signedInAs(app, PEOPLE.onCall));
    const link = res.approvalUrl ?? '?';
    expect([ticketNotesWith(app, link), commentsWith(app, link), mailsWith(app, link)].map((x) => x.length)).toEqual([1, 0, 1]);
    expect((await app.approval(res.approvalId)).announced).toMatchObject({ mail: expect.any(String) as unknown });
    expect((await app.approval(res.approvalId)).announced?.note).toBeUndefined();

    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    app.sim.clearFaults();
    await expireApprovals(app.deps);
    await expireApprovals(app.deps);
    expect([ticketNotesWith(app, link), commentsWith(app, link), mailsWith(app, link)].map((x) => x.length)).toEqual([1, 1, 1]);
  });
});

describe('two requests for one release in flight at once', () => {
  it('the approvers are told once on each channel, not once per request', async () => {
    const { agent, caseId } = await containedAgent(app, 340);
    expect(app.deps.config.TEAMS_WEBHOOK_URL).toBeDefined(); // the Teams channel is on
    const requester = await signedInAs(app, PEOPLE.onCall);
    let second: Awaited<ReturnType<typeof requestRelease>> | undefined;
    let fired = false;
    // The first request's row is stored, its answer slow; the requester, seeing nothing, asks again meanwhile.
    const slowInsert: StorageGate = (req) => {
      if (!fired && req.service === 'table' && req.method === 'POST' && req.shape === '/approvals') {
        fired = true;
        return Promise.resolve({
          answerAfter: async () => {
            second = await requestRelease(app.deps, caseId, { targetId: agent, reason: 'false positive' }, requester);
          },
        });
      }
      return Promise.resolve('forward');
    };
    const first = await app.withStorageGate(slowInsert, () => requestRelease(app.deps, caseId, { targetId: agent, reason: 'false positive' }, requester));
    expect(second).toMatchObject({ approvalId: first.approvalId, created: false });
    const link = first.approvalUrl ?? '?';
    expect({ cards: await cardsFor(app, first.approvalId), mails: mailsWith(app, link).length, notes: ticketNotesWith(app, link).length, comments: commentsWith(app, link).length }).toEqual({
      cards: ['requested'],
      mails: 1,
      notes: 1,
      comments: 1,
    });
  });
});

describe('a request past its deadline, not yet expired by the timer', () => {
  it('is not announced when its run is retried: the link in a mail would already be dead', async () => {
    const { approvalId, caseId, link } = await heldUnmailed(350);
    const target = (await app.deps.cases.load(caseId))?.targets[0];
    if (!target) {
      throw new Error('no target');
    }
    app.clock.now = (await atDeadline(app, approvalId)) + MINUTE;
    // The held containment's run, retried after the deadline (its first attempt failed after storing the request).
    const again = await requestApproval(app.deps, {
      kind: 'held-containment',
      caseId,
      target,
      reason: 'retried',
      requestedBy: '00000000-0000-4000-8000-000000000001',
      requestedByName: 'retry',
      ...(target.round > 0 ? { round: String(target.round) } : {}),
    });
    expect(again).toMatchObject({ created: false, approval: { id: approvalId } });
    expect(mailsWith(app, link)).toHaveLength(0);
    await expireApprovals(app.deps);
    expect(mailsWith(app, link)).toHaveLength(0);
    expect((await app.approval(approvalId)).status).toBe('expired');
    // The expired request is not announced, however often the timer runs.
    app.clock.now += 1 * HOUR;
    await expireApprovals(app.deps);
    expect(mailsWith(app, link)).toHaveLength(0);
  });
});

describe('a request card Teams never took', () => {
  async function cardGivenUp(n: number, status: number): Promise<string> {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { approvalId } = await heldCase(app, n, agent);
    expect(await cardsFor(app, approvalId)).toEqual(['requested']);
    await (await app.deps.storage.queue(TEAMS_QUEUE)).clearMessages(); // the trigger took it
    // Its last attempt: Teams still fails it.
    app.sim.teams.behave({ failures: [{ status }] });
    await deliverTeamsCard(app.deps, { approvalId, event: 'requested', attempt: TEAMS_MAX_ATTEMPTS });
    expect(app.sim.teams.cards().filter((c) => JSON.stringify(c).includes(approvalId))).toHaveLength(0);
    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    return approvalId;
  }

  it('given up after Teams failed every attempt (an outage), it is queued again by the approvals timer, and posted once Teams answers', async () => {
    const approvalId = await cardGivenUp(150, 503);
    expect(await cardsFor(app, approvalId)).toEqual(['requested']);
    await (await app.deps.storage.queue(TEAMS_QUEUE)).clearMessages();
    await deliverTeamsCard(app.deps, { approvalId, event: 'requested', attempt: 1 });
    expect(app.sim.teams.cards().filter((c) => JSON.stringify(c).includes(approvalId))).toHaveLength(1);
    await expireApprovals(app.deps);
    expect(await cardsFor(app, approvalId)).toEqual([]);
  });

  it('refused by Teams (the webhook itself is wrong), it is not queued again: another post would be refused too', async () => {
    const approvalId = await cardGivenUp(151, 404);
    expect(await cardsFor(app, approvalId)).toEqual([]);
  });
});
