import type { TicketProvider } from '../tickets/ticket-provider';
import type { CaseStore } from '../store/case-store';
import { isConflict } from '../store/storage';
import { APPROVAL_ROW } from './request-approval';
import { queueApprovedAction, type ApprovalFlowDeps } from './approval-flow';
import type { ApprovalEntity } from './approval-entity';

/**
 * The approvals timer: expires undecided approvals at their deadline (audited, escalated on the ticket), and
 * re-drives granted approvals whose action never reached the queue.
 */
export async function expireApprovals(deps: ApprovalFlowDeps & { cases: CaseStore; tickets: TicketProvider }): Promise<{ expired: number; requeued: number }> {
  const now = deps.now();
  let expired = 0;
  let requeued = 0;
  const due = await deps.approvals.query(`status eq 'pending' and expiresAt le ${now}`);
  for (const row of due) {
    const next: ApprovalEntity = { ...row.value, status: 'expired', decidedAt: new Date(now).toISOString() };
    try {
      await deps.approvals.replace(row.partitionKey, APPROVAL_ROW, next, row.etag, { status: 'expired', expiresAt: next.expiresAt });
    } catch (err) {
      if (isConflict(err)) {
        continue; // decided meanwhile
      }
      throw err;
    }
    expired++;
    await deps.audit.write({ action: 'approval.expired', scope: next.caseId, actor: 'system', targetId: next.targetId, result: 'info', detail: `${next.id}: no decision before ${new Date(next.expiresAt).toISOString()}` });
    const ticket = (await deps.cases.getCase(next.caseId))?.ticket;
    if (ticket && ticket.provider !== 'none') {
      await deps.tickets
        .addNote(ticket, `ESCALATION: the approval "${next.title}" for ${next.targetName} expired without a decision. Nothing was changed. Ask again if still needed.`, `agent-responders:${next.caseId}:expired:${next.id}`)
        .catch((err: unknown) => deps.log?.warn(`approval ${next.id}: escalation note failed: ${String(err)}`));
    }
  }
  const stuck = await deps.approvals.query(`status eq 'approved'`);
  for (const row of stuck) {
    await queueApprovedAction(deps, row.value);
    requeued++;
  }
  return { expired, requeued };
}
