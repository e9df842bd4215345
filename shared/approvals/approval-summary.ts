import { KIND_LABEL } from '../graph/identity-kind';
import type { CaseRecord, TargetRecord } from '../store/case-model';
import type { ApprovalEntity } from './approval-entity';
import { countApprovals } from './decide-rules';
import type { ApprovalSummary } from './approval-page';

/** The case an approval belongs to, as far as the page shows it (read when the page is rendered). */
export interface ApprovalCaseContext {
  record?: Pick<CaseRecord, 'title' | 'severity' | 'source' | 'incidentUrl' | 'incidentNumber' | 'incidentArmId'>;
  target?: Pick<TargetRecord, 'accessCutAt' | 'status'>;
}

/** The approval as the page shows it, in plain words. */
export function approvalSummary(a: ApprovalEntity, context: ApprovalCaseContext = {}): ApprovalSummary {
  const { record, target } = context;
  const summary: ApprovalSummary = {
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
  if (record && (record.incidentArmId !== undefined || record.source === 'incident' || record.source === 'alert' || record.source === 'entity')) {
    summary.incident = {
      title: record.title,
      severity: record.severity,
      ...(record.incidentNumber === undefined ? {} : { number: record.incidentNumber }),
      ...(record.incidentUrl === undefined ? {} : { url: record.incidentUrl }),
    };
  }
  const cut = target?.accessCutAt === undefined ? Number.NaN : Date.parse(target.accessCutAt);
  if (Number.isFinite(cut)) {
    summary.containedAt = cut;
  }
  if (record) {
    summary.containedWhy =
      record.source === 'direct'
        ? `direct request: ${record.title}`
        : record.source === 'incident' || record.source === 'alert' || record.source === 'entity'
          ? `named by the Microsoft Sentinel ${record.source} above`
          : record.title;
  }
  return summary;
}
