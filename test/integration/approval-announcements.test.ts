import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StorageGate } from '../../dev/storage-proxy';
import { APPROVAL_ROW } from '../../shared/approvals/approval-entity';
import { approvalColumns } from '../../shared/approvals/approval-columns';
import { expireApprovals } from '../../shared/approvals/expire-approvals';
import { requestRelease } from '../../shared/approvals/request-release';
import { runCase } from '../../shared/plans/run-case';
import { TEAMS_QUEUE } from '../../shared/store/teams-card-queue';
import { PEOPLE } from '../helpers/approval-form';
import { signedInAs } from '../helpers/approval-sign-in';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { decideAsSocLead, heldCase, postIncident, targetStatuses } from '../helpers/incident-runs';
import { approvalLink } from '../../shared/approvals/approval-link';

// An approval nobody hears about waits for its deadline: the request is stored, and the channels that carry its link
// to the approvers (Teams, mail, the ticket and the incident) fail or the process dies before they are used. The
// approvals timer (and a retried request) tells the approvers on each channel still missing, once.
let app: InProcessApp;

beforeAll(async () => {
  app = await startInProcessApp({ throughStorageProxy: true });
});
afterAll(async () => {
  await app?.stop();
});
afterEach(async () => {
  await clearFaults();
  await (await app.deps.storage.queue(TEAMS_QUEUE)).clearMessages();
});

const MINUTE = 60_000;
const clearFaults = (): Promise<Response> => fetch(`${app.sim.url}/_sim/faults`, { method: 'DELETE' });
const ticketNotesWith = (text: string): string[] =>
  app.sim.state.tickets.servicenow.flatMap((t) => t.journal.map((j) => String(j.value))).filter((n) => n.includes(text));
const commentsWith = (text: string): unknown[] => app.sim.state.allComments().filter((c) => JSON.stringify(c).includes(text));
const mailsWith = (text: string): unknown[] => app.sim.state.mail.filter((m) => JSON.stringify(m.message).includes(text));

/** The Teams cards queued for `approvalId`, by event. */
async function cardsFor(approvalId: string): Promise<string[]> {
  const queue = await app.deps.storage.queue(TEAMS_QUEUE);
  const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems
    .map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { approvalId: string; event: string })
    .filter((m) => m.approvalId === approvalId)
    .map((m) => m.event);
}

async function containedAgent(n: number): Promise<{ agent: string; caseId: string }> {
  const [agent = ''] = await generateAgents(app, { agents: 1 });
  const message = await postIncident(app, n, agent);
  await runCase(app.deps, app.deps.planners, message, app.inv);
  expect(await targetStatuses(app, message.caseId)).toEqual(['contained']);
  return { agent, caseId: message.caseId };
}

/** Everything that carries a link fails: the ticket system, the incident's comments, the mailbox. */
function everyChannelDown(): void {
  app.sim.addFault({ path: '^/api/now/', status: 500, times: 100_000 });
  app.sim.addFault({ method: 'PUT', path: '/comments/', status: 500, times: 100_000 });
  app.sim.addFault({ method: 'POST', path: 'sendMail$', status: 500, times: 100_000 });
}

describe('a release request whose every announcement failed', () => {
  it('is announced by the approvals timer on each channel once they answer, after a grace for the request in flight, and only once', async () => {
    const { agent, caseId } = await containedAgent(130);
    everyChannelDown();
    const res = await requestRelease(app.deps, caseId, { targetId: agent, reason: 'false positive' }, await signedInAs(app, PEOPLE.onCall));
    const link = res.approvalUrl ?? '?';
    expect(res).toMatchObject({ created: true, status: 'pending' });
    await clearFaults();
    expect([ticketNotesWith(link), commentsWith(link), mailsWith(link)].map((x) => x.length)).toEqual([0, 0, 0]);

    // Within the grace the request may still be announcing itself: the timer leaves it.
    await expireApprovals(app.deps);
    expect(mailsWith(link)).toHaveLength(0);

    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    expect([ticketNotesWith(link), commentsWith(link), mailsWith(link)].map((x) => x.length)).toEqual([1, 1, 1]);
    const again = await expireApprovals(app.deps);
    expect(again).toMatchObject({ expired: 0 });
    expect([ticketNotesWith(link), commentsWith(link), mailsWith(link)].map((x) => x.length)).toEqual([1, 1, 1]);
    expect((await app.approval(res.approvalId)).status).toBe('pending');
  });

  it('is announced at once when the requester asks again, on the channels still missing', async () => {
    const { agent, caseId } = await containedAgent(131);
    const requester = await signedInAs(app, PEOPLE.onCall);
    app.sim.addFault({ path: '^/api/now/', status: 500, times: 100_000 });
    const first = await requestRelease(app.deps, caseId, { targetId: agent, reason: 'false positive' }, requester);
    const link = first.approvalUrl ?? '?';
    expect(ticketNotesWith(link)).toHaveLength(0);
    expect(mailsWith(link)).toHaveLength(1);
    await clearFaults();

    const second = await requestRelease(app.deps, caseId, { targetId: agent, reason: 'false positive' }, requester);
    expect(second).toMatchObject({ approvalId: first.approvalId, created: false });
    expect([ticketNotesWith(link), commentsWith(link), mailsWith(link)].map((x) => x.length)).toEqual([1, 1, 1]);
  });
});

describe('a held containment whose announcement failed', () => {
  it('the queue dropped its Teams card and the mailbox failed: the timer sends both, once', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    expect(app.deps.config.TEAMS_WEBHOOK_URL).toBe(app.sim.teamsWebhookUrl); // the Teams channel is on
    const dropCards: StorageGate = (req) => Promise.resolve(req.service === 'queue' && req.method === 'POST' && req.shape === `/${TEAMS_QUEUE}/messages` ? 'drop' : 'forward');
    app.sim.addFault({ method: 'POST', path: 'sendMail$', status: 500, times: 100_000 });
    const { approvalId } = await app.withStorageGate(dropCards, () => heldCase(app, 132, agent));
    await clearFaults();
    expect(await cardsFor(approvalId)).toEqual([]);
    const link = approvalLink(app.deps.config, await app.approval(approvalId)) ?? '?';
    expect(mailsWith(link)).toHaveLength(0);

    app.clock.now += 3 * MINUTE;
    await expireApprovals(app.deps);
    expect(await cardsFor(approvalId)).toEqual(['requested']);
    expect(mailsWith(link)).toHaveLength(1);
    await expireApprovals(app.deps);
    expect(await cardsFor(approvalId)).toEqual(['requested']);
    expect(mailsWith(link)).toHaveLength(1);
  });

  it('a request already decided, or stored before announcements were recorded, is not announced again', async () => {
    const [agent = '', other = ''] = await generateAgents(app, { agents: 2 });
    app.sim.addFault({ method: 'POST', path: 'sendMail$', status: 500, times: 100_000 });
    const decided = await heldCase(app, 133, agent);
    const legacy = await heldCase(app, 134, other);
    await clearFaults();
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
