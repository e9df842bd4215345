import type { ApprovalEntity } from '../approvals/approval-entity';
import { describeOutcome } from '../approvals/describe-outcome';
import { APPROVAL_ROW } from '../approvals/approval-entity';
import type { AuditLog } from '../store/audit-log';
import type { TargetRecord } from '../store/case-model';
import type { RecordTable } from '../store/record-table';
import type { CaseSession } from './case-session';
import { identityOf, releaseOwnership, type OwnershipDeps } from './ownership';

export interface ApplyApprovalDeps extends OwnershipDeps {
  approvals: Pick<RecordTable<ApprovalEntity>, 'get'>;
  audit: AuditLog;
}

/**
 * Applies a decided approval to its target, under the case's lease (the approval page never writes the case):
 * - granted hold (containment, deletion): the target leaves its hold and its plan runs;
 * - granted release of a contained target: a new round of the target with the release plan;
 * - rejected or expired hold: the hold ends (the identity is released for the next alert), said on the case;
 * - rejected or expired release: the target stays contained, and says so.
 * An approval that no longer matches its target (already applied, superseded) changes nothing.
 */
export async function applyApproval(deps: ApplyApprovalDeps, session: CaseSession, approvalId: string): Promise<void> {
  const stored = await deps.approvals.get(approvalId, APPROVAL_ROW);
  const approval = stored?.value;
  const target = approval && approval.caseId === session.caseId ? session.targets.get(approval.targetKey) : undefined;
  if (!approval || !target || approval.status === 'pending') {
    return;
  }
  const approvers = approval.decisions.filter((d) => d.decision === 'approve').map((d) => d.name ?? d.by).join(', ');
  const actor = approval.decisions.at(-1)?.by ?? 'system';
  const audit = (action: string, detail: string) => deps.audit.write({ action, scope: session.caseId, actor, targetId: target.objectId ?? target.key, result: 'ok', detail: `${approval.id}: ${detail}` });
  const holdOf = target.status === 'held' && target.approvalId === approval.id;

  if (approval.status === 'approved' && holdOf) {
    const next: TargetRecord = { ...target, status: 'pending', approvedBy: approvers, reason: `Approved by ${approvers}` };
    delete next.admittedAt;
    await session.saveTarget(next);
    await audit('target.hold-released', `approved by ${approvers}`);
    return;
  }
  if (approval.status === 'approved' && approval.kind === 'release' && target.status === 'contained') {
    const next: TargetRecord = { ...target, plan: 'release', round: target.round + 1, status: 'pending', approvalId: approval.id, approvedBy: approvers, reason: `Release approved by ${approvers}: ${approval.reason}` };
    delete next.admittedAt;
    delete next.accessCutAt;
    await session.saveTarget(next);
    await audit('target.release-approved', `approved by ${approvers}`);
    return;
  }
  const outcome = describeOutcome(approval);
  if (outcome === undefined) {
    return;
  }
  if (holdOf) {
    // The hold ends either way; a later alert about the same identity asks for a fresh approval.
    const status = approval.status === 'rejected' ? 'rejected' : 'expired';
    // Given back before the end is stored: a retry applies the decision again only to a target still held.
    const identity = identityOf(target);
    if (identity) {
      await releaseOwnership(deps, identity, session.caseId, status);
    }
    await session.saveTarget({ ...target, status, reason: outcome });
    await audit(`target.hold-${status}`, outcome);
  } else if (approval.kind === 'release' && !target.reason?.includes(approval.id)) {
    await session.saveTarget({ ...target, reason: [target.reason, outcome].filter(Boolean).join(' ') });
    await audit(`target.release-${approval.status}`, outcome);
  }
}
