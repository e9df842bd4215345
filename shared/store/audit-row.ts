import { isGuid } from '../is-guid';
import type { AuditEntry } from './audit-log';
import { redactSecrets } from '../telemetry/redact-secrets';

/** One row of `AgentResponderAudit_CL`, the columns `infra/main.bicep` declares for the stream. */
export type AuditRow = {
  TimeGenerated: string;
  CaseId: string;
  Action: string;
  Scope: string;
  Actor: string;
  TargetId: string;
  Result: string;
  RequestId: string;
  Detail: string;
};

/** Audit actions the Sentinel workbook reads under another name (`infra/README.md`, "Audit events"). */
const WORKBOOK_ACTIONS: Readonly<Record<string, string>> = {
  'intake.received': 'case.accepted',
  'target.contained': 'containment.disable',
  'target.released': 'release.enable',
  'approval.approved': 'approval.decided',
  'approval.rejected': 'approval.decided',
};

const RESULTS: Readonly<Record<AuditEntry['result'], string>> = { ok: 'succeeded', failed: 'failed', refused: 'refused', 'would-do': 'would-do', info: 'info' };

/** Approval ids are 24 hex characters; approval audit details start with the id. */
const APPROVAL_DETAIL = /^([0-9a-f]{24}):\s?([\s\S]*)$/;

/**
 * The Log Analytics row of one audit entry, one for one: the case id from the entry's scope, the approval id (from
 * the detail) as `RequestId` of `approval.*` rows, and the action, scope and result in the workbook's vocabulary
 * (`case.accepted`, `containment.disable`, `release.enable`, `approval.decided` with `approved` / `rejected`).
 * `Detail` is JSON: the entry's text (secrets masked), the table's own action name when it was renamed, and the
 * approver's comment as `reason` on a decision.
 */
export function auditRow(entry: AuditEntry & { at: string }): AuditRow {
  const caseId = isGuid(entry.scope) ? entry.scope.toLowerCase() : '';
  const approval = APPROVAL_DETAIL.exec(entry.detail ?? '');
  const text = approval ? (approval[2] ?? '') : (entry.detail ?? '');
  const action = WORKBOOK_ACTIONS[entry.action] ?? entry.action;
  const decision = entry.action === 'approval.approved' ? 'approved' : entry.action === 'approval.rejected' ? 'rejected' : undefined;
  const detail: Record<string, string> = { text: redactSecrets(text) };
  if (action !== entry.action) {
    detail['auditAction'] = entry.action;
  }
  if (decision) {
    const comment = /\s—\s([\s\S]*)$/.exec(text)?.[1];
    if (comment) {
      detail['reason'] = redactSecrets(comment);
    }
  }
  return {
    TimeGenerated: entry.at,
    CaseId: caseId,
    Action: action,
    Scope: scopeOf(entry, caseId),
    Actor: entry.actor === 'system' ? 'responder' : entry.actor,
    TargetId: entry.targetId ?? '',
    Result: decision ?? (entry.action === 'target.held' ? 'held' : RESULTS[entry.result]),
    RequestId: entry.requestId ?? approval?.[1] ?? '',
    Detail: JSON.stringify(detail),
  };
}

/** What kind of thing a row is about: intake, containment, release, approval, …; a non-case scope as it is. */
function scopeOf(entry: AuditEntry, caseId: string): string {
  const family = entry.action.split('.')[0] ?? entry.action;
  if (family === 'target') {
    return /releas/.test(entry.action) ? 'release' : 'containment';
  }
  if (caseId === '') {
    return entry.scope;
  }
  return family;
}
