import { KIND_LABEL } from '../graph/identity-kind';
import type { ApprovalEntity } from './approval-entity';
import { countApprovals } from './decide-rules';
import type { ApprovalSummary } from './approval-page';

/** The approval as the page shows it, in plain words. */
export function approvalSummary(a: ApprovalEntity): ApprovalSummary {
  return {
    id: a.id,
    title: a.title,
    actionText: a.actionText,
    targetName: a.targetName,
    targetKind: KIND_LABEL[a.targetKind],
    targetId: a.targetId,
    requestedBy: a.requestedByName,
    reason: a.reason,
    expiresAt: a.expiresAt,
    quorum: a.quorum,
    approvalsSoFar: countApprovals(a),
    approvers:
      a.approversText ??
      'The people and groups listed in APPROVERS (membership checked in Microsoft Entra). The requester, the identity’s sponsors and owners, and the responder itself cannot approve.',
  };
}
