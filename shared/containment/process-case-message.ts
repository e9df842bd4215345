import { UpstreamError } from '../errors';
import type { Storage } from '../store/storage';
import { StepBusyError, isTransient } from '../plans/step-runner';
import { caseMessageSchema, enqueueCase } from './case-message';
import { runCase, type Invocation, type RunCaseDeps } from './run-case';
import { runApprovedAction } from '../approvals/run-approved-action';
import { runLifecycleCase } from '../lifecycle/run-lifecycle-case';

/** How many times a case may go back to the queue for throttling or a busy lease before it is retried as a failure. */
export const MAX_DEFERRALS = 12;

/**
 * The queue trigger's use-case: validate the message, run the case, and hand transient trouble back to the
 * queue with a delay (Retry-After, the remaining lease, or exponential). Non-transient errors are thrown, so
 * the host retries the message and, after `maxDequeueCount`, moves it to the poison queue.
 */
export async function processCaseMessage(deps: RunCaseDeps & { storage: Storage }, message: unknown, inv: Invocation): Promise<void> {
  const msg = caseMessageSchema.parse(message);
  try {
    if (msg.approvalId) {
      await runApprovedAction(deps, msg.approvalId, inv);
    } else if ((msg.kind ?? (await deps.cases.getCase(msg.caseId))?.kind) === 'expiry') {
      await runLifecycleCase(deps, msg.caseId, inv);
    } else {
      await runCase(deps, msg.caseId, inv);
    }
  } catch (err) {
    const deferrals = msg.deferrals ?? 0;
    if (!isTransient(err) || deferrals >= MAX_DEFERRALS) {
      throw err;
    }
    const hintMs = err instanceof StepBusyError ? err.retryAfterMs : err instanceof UpstreamError ? err.retryAfterMs : undefined;
    const delaySeconds = Math.min(300, Math.max(1, hintMs !== undefined ? hintMs / 1000 : 2 ** deferrals));
    await enqueueCase(deps.storage, { ...msg, deferrals: deferrals + 1 }, delaySeconds);
    inv.log.warn(JSON.stringify({ caseId: msg.caseId, deferredSeconds: delaySeconds, deferrals: deferrals + 1, reason: err instanceof Error ? err.message : 'transient' }));
  }
}
