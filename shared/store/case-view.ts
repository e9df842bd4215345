import type { CaseBundle, StepAction, StepRecord, TargetRecord } from './case-model';

/** The order steps are shown in within a round: the access cut first, as they run. */
const ACTION_ORDER: readonly StepAction[] = ['disable', 'revoke-sessions', 'enable', 'delete', 'confirm-compromised', 'dismiss-risk', 'notify-sponsors', 'ticket', 'refusal-ticket', 'ticket-note', 'comment'];

/** Rows are stored under hashed keys, in no useful order: show rounds in order, then steps as they run. */
export function orderSteps(steps: readonly StepRecord[]): StepRecord[] {
  return [...steps].sort((a, b) => (a.round ?? 0) - (b.round ?? 0) || ACTION_ORDER.indexOf(a.action) - ACTION_ORDER.indexOf(b.action) || (a.startedAt ?? '').localeCompare(b.startedAt ?? ''));
}

/** Targets in the order they were received. */
export function orderTargets(targets: readonly TargetRecord[]): TargetRecord[] {
  return [...targets].sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.key.localeCompare(b.key));
}

/** A step as `GET /cases/{id}` shows it: no lease internals. */
function stepView(s: StepRecord) {
  return {
    action: s.action,
    description: s.description,
    state: s.state,
    attempts: s.attempts,
    startedAt: s.startedAt,
    endedAt: s.endedAt,
    graphRequestIds: s.requestIds,
    errorCode: s.errorCode,
    error: s.errorMessage,
    approvalId: s.approvalId,
    detail: s.detail,
  };
}

/**
 * What an operator sees of a case: its targets with resolved kind and name, each step with state, times,
 * Graph request ids and errors, and per target the time from intake to access cut.
 */
export function caseView(bundle: CaseBundle) {
  const r = bundle.record;
  return {
    caseId: r.caseId,
    status: r.status,
    mode: r.mode,
    kind: r.kind,
    source: r.source,
    title: r.title,
    severity: r.severity,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    incidentArmId: r.incidentArmId,
    alertId: r.alertId,
    requestedBy: r.requestedBy,
    verifiedSeverity: r.verifiedSeverity,
    ticket: r.ticket,
    note: r.note,
    relatedCaseId: r.relatedCaseId,
    rejectedEntities: r.rejected,
    targets: orderTargets(bundle.targets).map((t) => ({
      key: t.key,
      requested: t.ref,
      objectId: t.objectId,
      kind: t.kind,
      displayName: t.displayName,
      status: t.status,
      reason: t.reason,
      approvalId: t.approvalId,
      joinedCaseId: t.joinedCaseId,
      receivedAt: t.receivedAt,
      resolvedAt: t.resolvedAt,
      accessCutAt: t.accessCutAt,
      timeToAccessCutMs: t.accessCutAt ? Date.parse(t.accessCutAt) - Date.parse(t.receivedAt) : undefined,
      plan: t.plan,
      verification: t.verification,
      round: t.round,
      steps: orderSteps(bundle.steps.filter((s) => s.targetKey === t.key)).map(stepView),
    })),
    caseSteps: orderSteps(bundle.steps.filter((s) => s.targetKey === 'case')).map(stepView),
  };
}
