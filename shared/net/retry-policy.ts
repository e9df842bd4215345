import { UpstreamError } from '../errors';
import { CALL_ATTEMPT_TIMEOUT_MS, CALL_BUDGET_MS } from './call-timeout';

/**
 * How transient failures of an external call are retried: honour `Retry-After` when the service sends it,
 * otherwise exponential backoff with full jitter (Identity Protection answers 429 without `Retry-After`).
 * A wait longer than `maxInlineWaitMs`, or one that would end after the call's budget, is not slept in the
 * function: the error is rethrown so the caller can hand the work back to the queue with a visibility delay.
 */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest single wait spent inside the function; longer waits go back to the queue. */
  maxInlineWaitMs: number;
  /** Time-out of one attempt (token, request and reading the answer); default {@link CALL_ATTEMPT_TIMEOUT_MS}. */
  attemptTimeoutMs?: number;
  /** The whole call, every attempt and wait included; default {@link CALL_BUDGET_MS}. */
  budgetMs?: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxInlineWaitMs: 10_000,
  attemptTimeoutMs: CALL_ATTEMPT_TIMEOUT_MS,
  budgetMs: CALL_BUDGET_MS,
};

export interface RetryHooks {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** The clock the budget is measured on. */
  now?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; error: UpstreamError }) => void;
}

export interface RetryOptions extends RetryHooks {
  /**
   * An absolute deadline (ms since the epoch) shared by the calls of one operation, e.g. a ticket's look-up and
   * create; when unset the call's own budget (`policy.budgetMs` from its start) applies.
   */
  deadline?: number;
  /**
   * Which transient failures may be retried. Default: all of them. A call that is not idempotent passes
   * {@link isUnsent}: only failures that prove the request never took effect are retried.
   */
  retryIf?: (error: UpstreamError) => boolean;
}

/** What one attempt is told: its number (1-based) and when it must give up. */
export interface Attempt {
  attempt: number;
  /** Absolute time (ms) by which this attempt must end: the per-attempt time-out capped by the call's deadline. */
  deadline: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The delay before retry number `attempt` (1-based) of a transient failure. */
export function retryDelayMs(error: UpstreamError, attempt: number, policy: RetryPolicy, random: () => number): number {
  if (error.retryAfterMs !== undefined) {
    return error.retryAfterMs;
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  // Full jitter: spreads retries of many workers hitting the same 1 request/s limit.
  return Math.max(policy.baseDelayMs / 2, Math.round(random() * ceiling));
}

/**
 * Runs `operation`, retrying transient {@link UpstreamError}s per `policy` within the call's budget. Permanent
 * errors, anything that is not an UpstreamError, and failures `retryIf` refuses are rethrown at once.
 */
export async function withRetry<T>(operation: (attempt: number, at: Attempt) => Promise<T>, policy: RetryPolicy = defaultRetryPolicy, options: RetryOptions = {}): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const attemptTimeoutMs = policy.attemptTimeoutMs ?? CALL_ATTEMPT_TIMEOUT_MS;
  const deadline = options.deadline ?? now() + (policy.budgetMs ?? CALL_BUDGET_MS);
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt, { attempt, deadline: Math.min(deadline, now() + attemptTimeoutMs) });
    } catch (err) {
      if (!(err instanceof UpstreamError) || !err.transient || attempt >= policy.maxAttempts || (options.retryIf && !options.retryIf(err))) {
        throw err;
      }
      const delayMs = retryDelayMs(err, attempt, policy, random);
      // A wait that would outlast the budget is not slept: the caller defers the work instead.
      if (delayMs > policy.maxInlineWaitMs || now() + delayMs >= deadline) {
        throw err;
      }
      options.onRetry?.({ attempt, delayMs, error: err });
      await sleep(delayMs);
    }
  }
}

/** Parses a `Retry-After` header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') {
    return undefined;
  }
  const seconds = Number(value);
  if (Number.isFinite(seconds)) {
    return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  }
  // An HTTP date starts with the day name (RFC 9110 §5.6.7); Date.parse alone would also take "-3" or "1 2".
  if (!/^\s*[A-Za-z]{3,9},?\s/.test(value)) {
    return undefined;
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Statuses worth retrying: 408 (request time-out), 429 (throttled) and every 5xx. A 500 is usually a passing
 * fault on the far side; the retry policy bounds how often it is tried again, and only a 4xx is an answer.
 */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * True when a failure proves the request never took effect, so even a call that is not idempotent (a create,
 * a journal note, a mail) may be sent again: the service throttled it (429) or no connection was made.
 * A time-out, a dropped connection or a 5xx may have come after the service acted, so they are not.
 */
export function isUnsent(error: UpstreamError): boolean {
  return error.httpStatus === 429 || error.upstreamCode === 'ConnectFailed';
}
