import type { Columns } from '../store/record-table';
import type { ApprovalEntity } from './approval-entity';

/**
 * What the `status` column says, which can run ahead of the record's own status: `action-queued` marks a
 * granted approval already handed to the responder, so the approvals timer re-drives only the others;
 * `escalation-due` marks an expired approval whose ticket escalation has not gone out yet.
 */
export type ApprovalStatusColumn = ApprovalEntity['status'] | 'action-queued' | 'escalation-due';

/**
 * The queryable columns stored beside an approval's JSON. Every write passes all of them: a Replace drops
 * any column it does not name. The expiry is an ISO string because Table storage types a bare epoch-ms
 * number as Edm.Double and compares it strictly against a filter literal's type; ISO UTC strings compare
 * correctly as text everywhere.
 */
export function approvalColumns(approval: ApprovalEntity, status: ApprovalStatusColumn = approval.status): Columns {
  return {
    status,
    kind: approval.kind,
    caseId: approval.caseId,
    targetKey: approval.targetKey,
    expiresAtUtc: new Date(approval.expiresAt).toISOString(),
  };
}
