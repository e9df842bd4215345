import { UpstreamError } from '../errors';

/**
 * Longest time one attempt of an outbound call (Graph, ARM, Log Analytics, ServiceNow, Jira, webhook) may take,
 * token, request and answer included. Well under the case engine's step lease (15 s), so an attempt always
 * ends, answered or not, while its lease still holds.
 */
export const CALL_ATTEMPT_TIMEOUT_MS = 10_000;

/**
 * Longest time one outbound call may take with every retry and wait: a lease must be longer than this for the
 * call to finish inside it even if no renewal lands. Work that needs longer goes back to the queue.
 */
export const CALL_BUDGET_MS = 12_000;

/** The transient error of an attempt that got no answer in time. */
export function timeoutError(service: string, ms: number): UpstreamError {
  return new UpstreamError({ service, transient: true, upstreamCode: 'Timeout', message: `${service} did not answer within ${ms} ms` });
}

/**
 * Runs `run` with an abort signal that fires after `ms`, and gives up at that moment even if `run` ignores the
 * signal (a token fetch, an SDK middleware): the caller gets a transient {@link timeoutError}, never a hang.
 */
export async function withTimeout<T>(service: string, ms: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  if (ms <= 0) {
    throw new UpstreamError({ service, transient: true, upstreamCode: 'Timeout', message: `${service}: the call's time budget is spent` });
  }
  const error = timeoutError(service, ms);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([run(controller.signal), expired]);
  } catch (err) {
    // A call aborted by our signal rejects with the abort's reason or an AbortError: report the time-out.
    throw controller.signal.aborted ? error : err;
  } finally {
    clearTimeout(timer);
  }
}
