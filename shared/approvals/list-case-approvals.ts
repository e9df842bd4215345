import { odata } from '@azure/data-tables';
import type { RecordTable } from '../store/record-table';
import type { ApprovalEntity } from './approval-entity';
import { countApprovals } from './decide-rules';

/** An approval as the case view shows it: what it was for, where it stands, who decided what and why. */
export interface CaseApprovalView {
  approvalId: string;
  kind: ApprovalEntity['kind'];
  targetKey: string;
  status: ApprovalEntity['status'];
  actionText: string;
  requestedBy: string;
  reason: string;
  quorum: number;
  approvals: number;
  expiresAt: string;
  decisions: { by: string; decision: 'approve' | 'reject'; at: string; comment?: string }[];
}

/** Every approval of a case, oldest first (the `caseId` column is written with each approval). */
export async function listCaseApprovals(approvals: RecordTable<ApprovalEntity>, caseId: string): Promise<CaseApprovalView[]> {
  const rows = await approvals.query(odata`caseId eq ${caseId}`);
  return rows
    .map((r) => r.value)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .map((a) => ({
      approvalId: a.id,
      kind: a.kind,
      targetKey: a.targetKey,
      status: a.status,
      actionText: a.actionText,
      requestedBy: a.requestedByName,
      reason: a.reason,
      quorum: a.quorum,
      approvals: countApprovals(a),
      expiresAt: new Date(a.expiresAt).toISOString(),
      decisions: a.decisions.map((d) => ({ by: d.name ?? d.by, decision: d.decision, at: new Date(d.at).toISOString(), ...(d.comment ? { comment: d.comment } : {}) })),
    }));
}
