import { odata } from '@azure/data-tables';
import { ensureError } from '../errors';
import type { TicketProvider } from '../tickets/ticket-provider';
import type { Stored } from '../store/record-table';
import { isConflict } from '../store/storage';
import { IsolatedSweep } from '../async/isolated-sweep';
import { queueApprovedAction, type ApprovalFlowDeps } from './approval-flow';
import { APPROVAL_ROW, type ApprovalEntity } from './approval-entity';
import { approvalColumns } from './approval-columns';
import { recordOutcomeOnCase } from './record-outcome-on-case';
import { announceApproval } from './announce-approval';
import { ANNOUNCE_GRACE_MS, announceRequest, missingChannels, type AnnounceRequestDeps } from './announce-request';

/**
 * The approvals timer: expires undecided approvals at their deadline (audited, written onto the case,
 * escalated on the ticket), and re-drives granted approvals whose action never reached the queue.
 * A decision that lands while the timer runs wins: the expiry is a conditional write like any decision.
 * The `status` column stays `escalation-due` until the ticket took the escalation, so a ticket system that is
 * down delays the escalation to a later run instead of losing it; the case is queued to end the hold at the expiry,
 * and again on every run until the escalation is taken, whatever the ticket system does. A pending request whose
 * announcement did not reach every channel (a failure, or the process gone before it sent) is announced on the
 * channels missing, once the request had its own chance to (`ANNOUNCE_GRACE_MS`).
 */
export async function expireApprovals(
  deps: ApprovalFlowDeps & AnnounceRequestDeps & { tickets: TicketProvider },
): Promise<{ expired: number; escalated: number; requeued: number; announced: number }> {
  const now = deps.now();
  let expired = 0;
  let escalated = 0;
  let requeued = 0;
  /** Expired in this run and already queued to their case. */
  const queued = new Set<string>();
  /** Each approval on its own: one that fails does not stop the others. */
  const sweep = new IsolatedSweep('approval', deps.log);
  const idOf = (row: Stored<ApprovalEntity>): string => row.value.id;
  // With approvals turned off no link can be checked, so nobody can decide: every pending request ends now, as admission
  // refuses a hold nobody could approve, instead of keeping its identity claimed until the deadline.
  const endedEarly = deps.config.PUBLIC_BASE_URL && deps.config.APPROVAL_SIGNING_KEY ? undefined : APPROVALS_OFF;
  const due = deps.approvals.query(
    endedEarly === undefined ? odata`status eq 'pending' and expiresAtUtc le ${new Date(now).toISOString()}` : odata`status eq 'pending'`,
  );
  await sweep.each(due, idOf, async (row) => {
    if (row.value.status !== 'pending' || (row.value.expiresAt > now && endedEarly === undefined)) {
      return;
    }
    // Audited before it is stored: an expiry stored whose audit then failed would never be audited (the next run
    // finds it expired). A run that fails after the audit audits it again on the next.
    const why = endedEarly ?? `no decision before ${new Date(row.value.expiresAt).toISOString()}`;
    await deps.audit.write({ action: 'approval.expired', scope: row.value.caseId, actor: 'system', targetId: row.value.targetId, result: 'info', detail: `${row.value.id}: ${why}` });
    const next = await storeExpiry(deps, row, new Date(now).toISOString(), endedEarly);
    if (!next) {
      // Decided meanwhile (a decision checked before the deadline, stored after it): the decision stands.
      await deps.audit.write({ action: 'approval.expiry-withdrawn', scope: row.value.caseId, actor: 'system', targetId: row.value.targetId, result: 'info', detail: `${row.value.id}: decided before its expiry was stored` });
      return;
    }
    expired++;
    await announceApproval(deps, next);
    // The case ends the hold now, not once the ticket took the escalation: a ticket system that is down must not keep
    // the identity claimed by a hold that can no longer act. While the escalation is due, each run queues it again.
    await recordOutcomeOnCase(deps, next).then(
      () => queued.add(next.id),
      (err: unknown) => deps.log?.warn(`approval ${next.id}: expiry not queued to its case yet (${ensureError(err).message}); queued again with the escalation`),
    );
  });
  await sweep.each(deps.approvals.query(odata`status eq 'escalation-due'`), idOf, async (row) => {
    // The case applies the expiry (its hold ends), queued again on every run while the escalation is due, whatever the
    // ticket system does: a send the queue dropped must not wait for the ticket system. A duplicate run changes nothing.
    if (!queued.has(row.value.id)) {
      await recordOutcomeOnCase(deps, row.value);
    }
    if (await escalate(deps, row.value)) {
      escalated++;
      await deps.approvals.replace(row.partitionKey, APPROVAL_ROW, row.value, row.etag, approvalColumns(row.value, 'action-queued')).catch((err: unknown) => {
        if (!isConflict(err)) {
          throw err;
        }
      });
    }
  });
  await sweep.each(deps.approvals.query(odata`status eq 'approved' or status eq 'rejected'`), idOf, async (row) => {
    await queueApprovedAction(deps, row.value);
    requeued++;
  });
  let announced = 0;
  await sweep.each(deps.approvals.query(odata`status eq 'pending'`), idOf, async (row) => {
    const unheard = missingChannels(deps, row.value);
    if (unheard.length > 0 && row.value.expiresAt > now && Date.parse(row.value.createdAt) <= now - ANNOUNCE_GRACE_MS) {
      const left = await announceRequest(deps, row);
      announced += unheard.length - left.length;
    }
  });
  sweep.finish();
  return { expired, escalated, requeued, announced };
}

/** Why every pending request ends at once while approvals are turned off. */
const APPROVALS_OFF = 'approvals are not configured (PUBLIC_BASE_URL, APPROVAL_SIGNING_KEY), so nobody can decide';

/**
 * Stores the expiry of a pending approval (status column `escalation-due`); undefined when a decision was stored
 * first. A write that changed the row but decided nothing (an announcement's claim or record) is read again and the
 * expiry written over it. Checked: an expiry stored whose answer was lost is this one.
 */
async function storeExpiry(deps: ApprovalFlowDeps, row: Stored<ApprovalEntity>, decidedAt: string, endedEarly: string | undefined): Promise<ApprovalEntity | undefined> {
  let current: Stored<ApprovalEntity> | undefined = row;
  for (let attempt = 1; ; attempt++) {
    const next: ApprovalEntity = { ...current.value, status: 'expired', decidedAt, ...(endedEarly === undefined ? {} : { endedEarly }) };
    try {
      await deps.approvals.replaceChecked(row.partitionKey, APPROVAL_ROW, next, current.etag, approvalColumns(next, 'escalation-due'));
      return next;
    } catch (err) {
      if (!isConflict(err) || attempt === 3) {
        throw err;
      }
    }
    current = await deps.approvals.get(row.partitionKey, APPROVAL_ROW);
    if (current?.value.status !== 'pending') {
      return undefined;
    }
  }
}

/** Notes the expiry on the case's ticket (idempotent key); true when done or when there is no ticket to note. */
async function escalate(deps: ApprovalFlowDeps & { tickets: TicketProvider }, approval: ApprovalEntity): Promise<boolean> {
  const ticket = (await deps.cases.getCase(approval.caseId))?.ticket;
  if (!ticket || ticket.provider === 'none') {
    return true;
  }
  try {
    await deps.tickets.addNote(
      ticket,
      `ESCALATION: the approval "${approval.title}" for ${approval.targetName} ${approval.endedEarly === undefined ? `expired without a decision (deadline ${new Date(approval.expiresAt).toISOString()})` : `ended without a decision: ${approval.endedEarly}`}. Nothing was changed. Request: ${approval.actionText} Reason given: ${approval.reason}. If this is still needed, ask again.`,
      `agent-responders:${approval.caseId}:expired:${approval.id}`,
    );
    await deps.audit.write({ action: 'approval.escalated', scope: approval.caseId, actor: 'system', targetId: approval.targetId, result: 'ok', detail: approval.id });
    return true;
  } catch (err) {
    deps.log?.warn(`approval ${approval.id}: escalation note failed, retried on the next run: ${ensureError(err).message}`);
    return false;
  }
}
