import { UpstreamError } from '../errors';

/**
 * How transient failures of an external call are retried: honour `Retry-After` when the service sends it,
 * otherwise exponential backoff with full jitter (Identity Protection answers 429 without `Retry-After`).
 * A wait longer than `maxInlineWaitMs` is not slept in the function: the error is rethrown so the caller can
 * hand the work back to the queue with a visibility delay.
 */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest single wait spent inside the function; longer waits go back to the queue. */
  maxInlineWaitMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxInlineWaitMs: 10_000,
};

export interface RetryHooks {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; error: UpstreamError }) => void;
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
 * Runs `operation`, retrying transient {@link UpstreamError}s per `policy`. Permanent errors and anything that
 * is not an UpstreamError are rethrown at once.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, policy: RetryPolicy = defaultRetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  const sleep = hooks.sleep ?? realSleep;
  const random = hooks.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (err) {
      if (!(err instanceof UpstreamError) || !err.transient || attempt >= policy.maxAttempts) {
        throw err;
      }
      const delayMs = retryDelayMs(err, attempt, policy, random);
      if (delayMs > policy.maxInlineWaitMs) {
        throw err;
      }
      hooks.onRetry?.({ attempt, delayMs, error: err });
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

/** Statuses worth retrying: throttled, unavailable, gateway timeout, bad gateway. A 500 is a bug on the far side: permanent. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 503 || status === 504 || status === 502;
}
