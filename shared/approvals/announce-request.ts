import { ensureError } from '../errors';
import { sendMail } from '../graph/mail';
import type { Sentinel } from '../sentinel/sentinel-client';
import { parseIncidentArmId } from '../sentinel/incident-arm-id';
import type { CaseStore } from '../store/case-store';
import { deterministicGuid } from '../store/deterministic-guid';
import type { Stored } from '../store/record-table';
import { isConflict } from '../store/storage';
import type { TicketProvider } from '../tickets/ticket-provider';
import { announceApproval, type AnnounceDeps } from './announce-approval';
import { APPROVAL_ROW, type AnnounceChannel, type ApprovalEntity } from './approval-entity';
import { approvalColumns } from './approval-columns';
import { approvalLink } from './approval-link';
import { lookUpApprovers, type ApproverLookup } from './look-up-approvers';
import type { ApprovalDeps } from './request-approval';

export interface AnnounceRequestDeps extends ApprovalDeps, Omit<AnnounceDeps, 'config'> {
  /**
   * Where a release request's link is noted (the case's ticket and incident). Every caller that asks for a release,
   * and the approvals timer, carries them; without them the note is left to the timer.
   */
  cases?: Pick<CaseStore, 'getCase'>;
  tickets?: TicketProvider;
  sentinel?: Sentinel;
}

/**
 * How long a new request is left to announce itself before the approvals timer announces it on the channels still
 * missing: long enough for the request's own sends to finish, short against the hours an approval waits.
 */
export const ANNOUNCE_GRACE_MS = 2 * 60_000;

/** The channels that carry this request's link to the approvers, as the app is configured. */
function channelsOf(deps: Pick<AnnounceRequestDeps, 'config'>, approval: ApprovalEntity): AnnounceChannel[] {
  const channels: AnnounceChannel[] = [];
  if (deps.config.TEAMS_WEBHOOK_URL) {
    channels.push('teams');
  }
  if (deps.config.APPROVAL_MAIL_SENDER && approvalLink(deps.config, approval)) {
    channels.push('mail');
  }
  if (approval.kind === 'release') {
    // A held containment's link goes on the ticket and the incident with the case's report, which the case retries.
    channels.push('note');
  }
  return channels;
}

/**
 * The channels a pending request has not been announced on yet. None for a decided or expired request, for one past
 * its deadline that the approvals timer has not expired yet (its link is dead: a retried request must not mail it),
 * or for one stored before announcements were recorded (`announced` absent): that one was announced, or not, by the
 * version that stored it, and telling its approvers again now would only repeat it.
 */
export function missingChannels(deps: Pick<AnnounceRequestDeps, 'config' | 'now'>, approval: ApprovalEntity): AnnounceChannel[] {
  const done = approval.announced;
  if (done === undefined || approval.status !== 'pending' || approval.expiresAt <= deps.now()) {
    return [];
  }
  return channelsOf(deps, approval).filter((c) => done[c] === undefined);
}

/**
 * Tells the approvers about a pending request on each channel it has not reached yet (a Teams card, a mail, for a
 * release a note on the ticket and the incident), then records the channels that took it on the row, so the approvals
 * timer announces again only what failed. Never throws: the request stands whatever happens here. A mail whose answer
 * was lost may be sent twice (Graph cannot be asked whether it went), and a Teams card queued just before the record
 * failed is queued again; the ticket note and the incident comment have idempotent keys. Two announcers never send
 * at once: each first claims the row (`announcing`, etag replace), and leaves it to a claim younger than
 * `ANNOUNCE_GRACE_MS` (the request's own, taken by its insert, or a request asked again while the first one sends).
 *
 * @param known.claimed the row's `announcing` is this caller's (the request that just stored it)
 * @returns the channels still missing afterwards
 * @example
 * await announceRequest(deps, { value: approval, etag }, { approvers, claimed: true }); // right after the request is stored
 */
export async function announceRequest(
  deps: AnnounceRequestDeps,
  stored: Pick<Stored<ApprovalEntity>, 'value' | 'etag'>,
  known: { approvers?: ApproverLookup; claimed?: boolean } = {},
): Promise<AnnounceChannel[]> {
  const missing = missingChannels(deps, stored.value);
  if (missing.length === 0) {
    return [];
  }
  const claim = known.claimed === true ? { row: stored, at: stored.value.announcing } : await claimAnnouncement(deps, stored);
  if (!claim) {
    return missing; // another announcer is at it (or the row moved): it, or the approvals timer later, tells them
  }
  const approval = claim.row.value;
  const link = approvalLink(deps.config, approval);
  const sent = await Promise.all(
    missing.map(async (channel) => {
      try {
        return (await send(deps, channel, approval, link, known)) ? channel : undefined;
      } catch (err) {
        deps.log?.warn(`approval ${approval.id}: not announced by ${channel} (announced again by the approvals timer): ${ensureError(err).message}`);
        return undefined;
      }
    }),
  );
  const done = sent.filter((c): c is AnnounceChannel => c !== undefined);
  if (done.length > 0 || claim.at !== undefined) {
    await recordAnnounced(deps, claim.row, done, claim.at).catch((err: unknown) => deps.log?.warn(`approval ${approval.id}: announcement not recorded, it may be repeated: ${ensureError(err).message}`));
  }
  return missing.filter((c) => !done.includes(c));
}

/**
 * Takes the row for this announcement (`announcing`, etag replace), unless another announcer's claim is younger than
 * the grace; undefined when it is, or when the row moved or could not be written (the timer tries again).
 */
async function claimAnnouncement(deps: AnnounceRequestDeps, stored: Pick<Stored<ApprovalEntity>, 'value' | 'etag'>): Promise<{ row: Pick<Stored<ApprovalEntity>, 'value' | 'etag'>; at: string } | undefined> {
  const now = deps.now();
  const held = stored.value.announcing;
  if (held !== undefined && Date.parse(held) > now - ANNOUNCE_GRACE_MS) {
    return undefined;
  }
  const at = new Date(now).toISOString();
  const value: ApprovalEntity = { ...stored.value, announcing: at };
  try {
    // Checked: a claim stored whose answer was lost is this one.
    const etag = await deps.approvals.replaceChecked(value.id, APPROVAL_ROW, value, stored.etag, approvalColumns(value));
    return { row: { value, etag }, at };
  } catch (err) {
    if (!isConflict(err)) {
      deps.log?.warn(`approval ${value.id}: announcement not begun, the approvals timer tries again: ${ensureError(err).message}`);
    }
    return undefined;
  }
}

/** Sends on one channel; true when the approvers were told (or there is nobody on it to tell). */
async function send(deps: AnnounceRequestDeps, channel: AnnounceChannel, approval: ApprovalEntity, link: string | undefined, known: { approvers?: ApproverLookup }): Promise<boolean> {
  switch (channel) {
    case 'teams':
      return announceApproval(deps, approval);
    case 'mail': {
      const approvers = known.approvers?.complete === true ? known.approvers : await lookUpApprovers(deps, approval.id);
      if (!approvers.complete || !link) {
        return false; // nobody could be named: an empty list here is a failed read, not an answer
      }
      await mailApprovers(deps, approval, link, approvers.mailboxes);
      return true;
    }
    case 'note':
      return link !== undefined && noteOnCase(deps, approval, link);
  }
}

/**
 * Emails the link to the approvers listed by user id, from the configured mailbox. Members of approver
 * groups are not mailed (that needs group membership reads the responder is not granted); they reach the
 * link through the ticket and the incident comment.
 */
async function mailApprovers(deps: AnnounceRequestDeps, approval: ApprovalEntity, link: string, mailboxes: ApproverLookup['mailboxes']): Promise<void> {
  const sender = deps.config.APPROVAL_MAIL_SENDER;
  const to = mailboxes.filter((m) => !approval.excluded.includes(m.id)).map((m) => m.address);
  if (!sender || to.length === 0) {
    return;
  }
  await sendMail(deps.graph, sender, {
    to,
    subject: `[Approval needed] ${approval.title}: ${approval.targetName}`,
    text: [
      approval.actionText,
      '',
      `Requested by: ${approval.requestedByName}`,
      `Why: ${approval.reason}`,
      `Approvals needed: ${approval.quorum}`,
      `Decide before: ${new Date(approval.expiresAt).toISOString()}`,
      '',
      'Open this link, sign in, and choose Approve or Reject (opening it changes nothing):',
      link,
    ].join('\n'),
  });
}

/** Puts a release request's link on its case's ticket and incident (idempotent keys); true when both took it. */
async function noteOnCase(deps: AnnounceRequestDeps, approval: ApprovalEntity, link: string): Promise<boolean> {
  if (!deps.cases || !deps.tickets || !deps.sentinel) {
    return false;
  }
  const record = await deps.cases.getCase(approval.caseId);
  if (!record) {
    return false;
  }
  const text = [
    `Release requested for ${approval.targetName} by ${approval.requestedByName}: ${approval.reason}`,
    approval.actionText,
    `Approvals needed: ${approval.quorum}. Decide before ${new Date(approval.expiresAt).toISOString()}.`,
    `Approve or reject (opening the link changes nothing): ${link}`,
  ].join('\n');
  const { tickets, sentinel } = deps;
  const armId = record.incidentArmId ? parseIncidentArmId(record.incidentArmId) : undefined;
  const ticket = record.ticket && record.ticket.provider !== 'none' ? record.ticket : undefined;
  // Both are tried whatever the other does; the note counts as sent once both went through.
  const results = await Promise.allSettled([
    ticket ? tickets.addNote(ticket, text, `agent-responders:${approval.caseId}:release-request:${approval.id}`) : undefined,
    armId ? sentinel.putComment(armId, deterministicGuid(`${approval.caseId}|release-request|${approval.id}`), text) : undefined,
  ]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    throw ensureError(failed.reason);
  }
  return true;
}

/**
 * Marks `done` on the row and ends this announcement's claim (`claim`, its `announcing`); a request changed meanwhile
 * (a decision) is read again and marked while still pending.
 */
async function recordAnnounced(deps: AnnounceRequestDeps, stored: Pick<Stored<ApprovalEntity>, 'value' | 'etag'>, done: readonly AnnounceChannel[], claim: string | undefined): Promise<void> {
  const at = new Date(deps.now()).toISOString();
  let row = stored;
  for (let attempt = 0; attempt < 3; attempt++) {
    const announced = { ...row.value.announced };
    done.forEach((c) => (announced[c] ??= at));
    const next: ApprovalEntity = { ...row.value, announced };
    if (claim !== undefined && next.announcing === claim) {
      delete next.announcing;
    }
    try {
      await deps.approvals.replace(next.id, APPROVAL_ROW, next, row.etag, approvalColumns(next));
      return;
    } catch (err) {
      if (!isConflict(err)) {
        throw err;
      }
    }
    const fresh = await deps.approvals.get(stored.value.id, APPROVAL_ROW);
    const marked = done.every((c) => fresh?.value.announced?.[c] !== undefined) && (claim === undefined || fresh?.value.announcing !== claim);
    if (!fresh || fresh.value.status !== 'pending' || marked) {
      return; // decided (nothing more to announce), or marked already (this write's answer was lost)
    }
    row = fresh;
  }
  throw new Error('the approval kept changing while its announcement was recorded');
}

/**
 * Forgets that `channel` told the approvers: what it was handed was given up afterwards (a Teams card every post of
 * which failed through an outage), so the approvals timer announces the request on it again. Only while the request
 * is pending; a decision stored meanwhile is read again, never overwritten.
 */
export async function forgetAnnounced(deps: Pick<AnnounceRequestDeps, 'approvals'>, approvalId: string, channel: AnnounceChannel): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const row = await deps.approvals.get(approvalId, APPROVAL_ROW);
    if (row?.value.status !== 'pending' || row.value.announced?.[channel] === undefined) {
      return;
    }
    const announced = { ...row.value.announced };
    delete announced[channel];
    const next: ApprovalEntity = { ...row.value, announced };
    try {
      await deps.approvals.replace(approvalId, APPROVAL_ROW, next, row.etag, approvalColumns(next));
      return;
    } catch (err) {
      if (!isConflict(err) || attempt === 3) {
        throw err;
      }
    }
  }
}
