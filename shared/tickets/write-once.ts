import { UpstreamError } from '../errors';
import { isUnsent } from '../net/retry-policy';

/**
 * An earlier attempt of a write got no answer (time-out, dropped connection, 5xx) and may still take effect, so
 * the write is not sent again yet. Transient: retry after `retryAfterMs`, passing `attemptedAt` back as
 * `earlierAttemptAt` (persist it with the step so a crash does not lose it).
 */
export class WritePendingError extends UpstreamError {
  /** When the attempt of unknown outcome was sent (epoch ms). */
  readonly attemptedAt: number;
  constructor(args: { service: string; message: string; attemptedAt: number; retryAfterMs: number; cause?: unknown }) {
    super({ service: args.service, transient: true, upstreamCode: 'WritePending', retryAfterMs: Math.max(0, args.retryAfterMs), message: args.message, cause: args.cause });
    this.attemptedAt = args.attemptedAt;
  }
}

export interface OnceWrite<T> {
  service: string;
  /** Why the write waits, for the error message ("waiting for Jira search to catch up"). */
  waiting: string;
  /** Looks the effect up; undefined when it is not (yet) visible. */
  find(): Promise<T | undefined>;
  /** Performs the write; must not retry itself after a failure of unknown outcome (see `httpJson`'s `idempotent`). */
  write(): Promise<T>;
  /** How long after an unanswered attempt was sent its effect may still appear to `find` (in flight, or indexing). */
  settleMs: number;
  earlierAttemptAt?: number | undefined;
  now: () => number;
}

/**
 * Writes at most once: looks the effect up before every attempt; writes only when it is absent and no earlier
 * attempt of unknown outcome may still appear; after an attempt whose answer is lost, looks once more (a write
 * that committed before its answer was dropped is usually visible at once) and otherwise throws
 * {@link WritePendingError}. A failure that proves nothing was written (4xx, 429, no connection) is rethrown as is.
 */
export async function writeOnce<T>(w: OnceWrite<T>): Promise<T> {
  const found = await w.find();
  if (found !== undefined) {
    return found;
  }
  if (w.earlierAttemptAt !== undefined) {
    const wait = w.earlierAttemptAt + w.settleMs - w.now();
    if (wait > 0) {
      throw new WritePendingError({ service: w.service, message: `${w.service}: ${w.waiting} (an earlier attempt may still appear)`, attemptedAt: w.earlierAttemptAt, retryAfterMs: wait });
    }
  }
  const attemptedAt = w.now();
  try {
    return await w.write();
  } catch (err) {
    if (!(err instanceof UpstreamError) || !err.transient || isUnsent(err)) {
      throw err;
    }
    const again = await w.find().catch(() => undefined);
    if (again !== undefined) {
      return again;
    }
    throw new WritePendingError({ service: w.service, message: `${w.service}: ${w.waiting} (${err.message})`, attemptedAt, retryAfterMs: attemptedAt + w.settleMs - w.now(), cause: err });
  }
}
