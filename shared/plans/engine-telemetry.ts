import { consoleLogger, type Logger } from '../logger';
import type { CaseRecord, StepRecord, TargetRecord } from '../store/case-model';
import { logEvent } from '../telemetry/log-event';
import { responderMetrics } from '../telemetry/responder-metrics';

/**
 * The engine's telemetry, called from `shared/plans/` with one line each. Engine code runs outside any one
 * invocation's logger (a step belongs to a case, not to the message that happened to run it), so these lines go
 * to the process logger, which the Functions worker forwards like `context.log`; the case id correlates them.
 */
const log: Logger = consoleLogger;

/**
 * Logs a step's outcome once, when it is recorded: done (with Graph request ids), failed (with the error code),
 * pending after a transient failure (it is retried), skipped or would-do (report-only).
 *
 * @example
 * recordStep(ctx.session.caseId, done); // {"event":"step","caseId":"…","action":"disable","state":"done",…}
 */
export function recordStep(caseId: string, step: StepRecord): void {
  const level = step.state === 'failed' ? 'error' : step.state === 'pending' ? 'warn' : 'info';
  logEvent(
    log,
    'step',
    {
      caseId,
      approvalId: step.approvalId,
      target: step.targetKey,
      action: step.action,
      round: step.round,
      state: step.state,
      attempts: step.attempts,
      requestIds: step.requestIds.length > 0 ? step.requestIds : undefined,
      errorCode: step.errorCode,
      error: step.errorMessage,
      detail: step.detail,
    },
    level,
  );
}

/**
 * The end of a target's exposure: records the time to contain (from `receivedAt` to `cutAt`, in seconds, by
 * identity kind and plan) and logs it. Called where the engine sets `accessCutAt`.
 */
export function recordAccessCut(caseId: string, target: TargetRecord, cutAt: string): void {
  const ms = Date.parse(cutAt) - Date.parse(target.receivedAt);
  if (!Number.isFinite(ms) || ms < 0) {
    return;
  }
  responderMetrics().timeToContain.record(ms / 1000, { 'identity.kind': target.kind ?? 'unknown', plan: target.plan });
  logEvent(log, 'access-cut', { caseId, approvalId: target.approvalId, targetId: target.objectId ?? target.key, kind: target.kind, plan: target.plan, timeToContainMs: ms });
}

/** What {@link trackCaseOutcome} returns: call `settled` once the run recorded the case's status. */
export interface CaseOutcomeTracker {
  settled(record: Pick<CaseRecord, 'caseId' | 'status'>): void;
}

/** Statuses a case passes through while work is under way; a case is counted only when it leaves them. */
const UNSETTLED: ReadonlySet<CaseRecord['status']> = new Set(['received', 'running']);

/**
 * Counts a case by outcome when a run changes its status to a settled one (`done`, `held`, `partial`, `paused`, …):
 * a redelivered message that leaves a case as it was is not counted again, a held case that is later approved and
 * done is counted under both. Call at the start of a run with the record as loaded.
 *
 * @example
 * const outcome = trackCaseOutcome(session.record);
 * // … the run …
 * outcome.settled(session.record);
 */
export function trackCaseOutcome(before: Pick<CaseRecord, 'status'>): CaseOutcomeTracker {
  const was = before.status;
  return {
    settled(record) {
      if (record.status !== was && !UNSETTLED.has(record.status)) {
        responderMetrics().cases.add(1, { 'case.status': record.status });
      }
    },
  };
}
