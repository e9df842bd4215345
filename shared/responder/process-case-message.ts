import { EmergencyStopError } from '../control/emergency-stop';
import { UpstreamError } from '../errors';
import { CaseBusyError, LeaseLostError } from '../plans/case-lease';
import { isTransient } from '../plans/run-plan-steps';
import { runCase, type EngineDeps, type Invocation, type Planners } from '../plans/run-case';
import { caseMessageSchema, enqueueCase } from '../store/case-queue';

/** How many times a case may go back to the queue for throttling or a busy lease before it is retried as a failure. */
export const MAX_DEFERRALS = 12;
/** How often a case paused by the emergency stop looks again whether the stop was lifted. */
export const PAUSED_RECHECK_SECONDS = 10;

/**
 * The queue trigger's use-case: validate the message, run the case through the engine, and hand transient
 * trouble back to the queue with a delay (Retry-After, the remaining lease, or exponential); the emergency stop
 * parks the case in the queue without counting against it. Anything else is thrown, so the host retries the
 * message and, after `maxDequeueCount`, moves it to the poison queue (see fail-case).
 */
export async function processCaseMessage(deps: EngineDeps & { planners: Planners }, message: unknown, inv: Invocation): Promise<void> {
  const msg = caseMessageSchema.parse(message);
  try {
    await runCase(deps, deps.planners, msg, inv);
  } catch (err) {
    if (err instanceof LeaseLostError) {
      inv.log.warn(JSON.stringify({ caseId: msg.caseId, msg: 'lease lost: another worker took the case over; this run stopped writing' }));
      if (msg.approvalId !== undefined || msg.settleOwnership === true) {
        // The run that took the case over may have been queued for something else: the decision this message applies
        // (or the ownership it settles) would be lost with it, since nothing else queues it again (the approval row
        // says its action was queued). Queued again: applying it twice changes nothing; past the deferrals, the host's
        // retries and the poison handler (which applies the decision) take it.
        const deferrals = msg.deferrals ?? 0;
        if (deferrals >= MAX_DEFERRALS) {
          throw err;
        }
        const next = { ...msg, deferrals: deferrals + 1 };
        delete next.hint;
        await enqueueCase(deps.storage, next);
      }
      return;
    }
    if (err instanceof EmergencyStopError) {
      await enqueueCase(deps.storage, msg, PAUSED_RECHECK_SECONDS);
      inv.log.warn(JSON.stringify({ caseId: msg.caseId, msg: 'paused by the emergency stop', recheckSeconds: PAUSED_RECHECK_SECONDS }));
      return;
    }
    const deferrals = msg.deferrals ?? 0;
    if (!(isTransient(err) || err instanceof CaseBusyError) || deferrals >= MAX_DEFERRALS) {
      throw err;
    }
    // A busy case is usually finishing a run: look again soon, backing off, and never past its lease (a crashed
    // holder's lease lapses by then). Throttling waits what the service asked for, or backs off exponentially.
    const hintMs = err instanceof CaseBusyError ? Math.min(err.retryAfterMs, 1000 * 2 ** deferrals) : err instanceof UpstreamError ? err.retryAfterMs : undefined;
    const delaySeconds = Math.min(300, Math.max(1, hintMs !== undefined ? hintMs / 1000 : 2 ** deferrals));
    // The hint is dropped: its reads are done, and a later run reads what is still unresolved from the case.
    const next = { ...msg, deferrals: deferrals + 1 };
    delete next.hint;
    await enqueueCase(deps.storage, next, delaySeconds);
    inv.log.warn(JSON.stringify({ caseId: msg.caseId, deferredSeconds: delaySeconds, deferrals: deferrals + 1, reason: err instanceof Error ? err.message : 'transient' }));
  }
}
