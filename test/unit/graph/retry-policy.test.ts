import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../../shared/errors';
import { CALL_ATTEMPT_TIMEOUT_MS, CALL_BUDGET_MS } from '../../../shared/net/call-timeout';
import { defaultRetryPolicy, isTransientStatus, isUnsent, parseRetryAfter, retryDelayMs, withRetry, type RetryPolicy } from '../../../shared/net/retry-policy';

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 1_000, maxInlineWaitMs: 5_000 };

function upstream(httpStatus: number, transient: boolean, retryAfterMs?: number): UpstreamError {
  return new UpstreamError({ service: 'Graph', httpStatus, transient, retryAfterMs, upstreamCode: transient ? 'TooManyRequests' : 'Request_BadRequest', message: `Graph answered ${httpStatus}` });
}

/** Hooks that record the waits instead of sleeping, so retries run instantly. */
function recorder(random = () => 0.5) {
  const waits: number[] = [];
  return { waits, hooks: { sleep: (ms: number) => (waits.push(ms), Promise.resolve()), random } };
}

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 20, 9, 0, 0);

  it('reads delta-seconds, including fractions and zero', () => {
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 1.5 ', now)).toBe(1_500);
  });

  it('reads an HTTP date as the time left until it, never negative', () => {
    expect(parseRetryAfter(new Date(now + 7_000).toUTCString(), now)).toBe(7_000);
    expect(parseRetryAfter(new Date(now - 60_000).toUTCString(), now)).toBe(0);
  });

  it('ignores a missing, empty or unreadable header', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  it("waits what the server's Retry-After says", () => {
    expect(retryDelayMs(upstream(429, true, 3_000), 1, policy, () => 0)).toBe(3_000);
    expect(retryDelayMs(upstream(429, true, 0), 4, policy, () => 1)).toBe(0);
  });

  it('backs off exponentially with full jitter between half the base delay and the ceiling', () => {
    const err = upstream(429, true);
    for (let attempt = 1; attempt <= 6; attempt++) {
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      expect(retryDelayMs(err, attempt, policy, () => 0)).toBe(policy.baseDelayMs / 2);
      expect(retryDelayMs(err, attempt, policy, () => 0.999_999)).toBe(ceiling);
      for (let i = 0; i < 50; i++) {
        const d = retryDelayMs(err, attempt, policy, Math.random);
        expect(d).toBeGreaterThanOrEqual(policy.baseDelayMs / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
    expect(retryDelayMs(err, 30, policy, () => 0.999_999)).toBe(policy.maxDelayMs);
  });
});

describe('withRetry', () => {
  it('retries a transient failure and returns the result of the attempt that succeeded', async () => {
    const { waits, hooks } = recorder();
    const seen: number[] = [];
    const result = await withRetry(
      (attempt) => {
        seen.push(attempt);
        return attempt < 3 ? Promise.reject(upstream(503, true)) : Promise.resolve('ok');
      },
      policy,
      hooks,
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
    expect(waits).toEqual([100, 200]);
  });

  it('honours Retry-After between attempts', async () => {
    const { waits, hooks } = recorder();
    let calls = 0;
    await withRetry(() => (++calls === 1 ? Promise.reject(upstream(429, true, 1_000)) : Promise.resolve(calls)), policy, hooks);
    expect(waits).toEqual([1_000]);
  });

  it('gives up after maxAttempts and rethrows the last error', async () => {
    const { waits, hooks } = recorder();
    let calls = 0;
    const last = upstream(504, true);
    await expect(withRetry(() => (++calls, Promise.reject(calls === policy.maxAttempts ? last : upstream(503, true))), policy, hooks)).rejects.toBe(last);
    expect(calls).toBe(policy.maxAttempts);
    expect(waits).toHaveLength(policy.maxAttempts - 1);
  });

  it('rethrows at once when the server asks for a wait longer than the function may sleep', async () => {
    const { waits, hooks } = recorder();
    let calls = 0;
    const err = upstream(429, true, policy.maxInlineWaitMs + 1);
    await expect(withRetry(() => (++calls, Promise.reject(err)), policy, hooks)).rejects.toBe(err);
    expect(calls).toBe(1);
    expect(waits).toEqual([]);
  });

  it('never retries a permanent failure or an error that is not an upstream failure', async () => {
    const { waits, hooks } = recorder();
    let calls = 0;
    const permanent = upstream(400, false);
    await expect(withRetry(() => (++calls, Promise.reject(permanent)), policy, hooks)).rejects.toBe(permanent);
    const bug = new TypeError('undefined is not a function');
    await expect(withRetry(() => (++calls, Promise.reject(bug)), policy, hooks)).rejects.toBe(bug);
    expect(calls).toBe(2);
    expect(waits).toEqual([]);
  });

  it('reports each retry to onRetry with its attempt and delay', async () => {
    const retries: { attempt: number; delayMs: number; status: number | undefined }[] = [];
    let calls = 0;
    await withRetry(() => (++calls < 3 ? Promise.reject(upstream(429, true, 50)) : Promise.resolve()), policy, {
      sleep: () => Promise.resolve(),
      onRetry: (info) => retries.push({ attempt: info.attempt, delayMs: info.delayMs, status: info.error.httpStatus }),
    });
    expect(retries).toEqual([
      { attempt: 1, delayMs: 50, status: 429 },
      { attempt: 2, delayMs: 50, status: 429 },
    ]);
  });

  it('keeps the default policy within what a queue-triggered function should spend inline', () => {
    expect(defaultRetryPolicy.maxAttempts).toBeGreaterThan(1);
    expect(defaultRetryPolicy.maxInlineWaitMs).toBeLessThanOrEqual(10_000);
    expect(defaultRetryPolicy.maxDelayMs).toBeLessThanOrEqual(defaultRetryPolicy.maxInlineWaitMs);
  });
});

describe('isTransientStatus', () => {
  it('retries throttling, request time-out and every 5xx (500 included), never another 4xx', () => {
    expect([408, 429, 500, 501, 502, 503, 504, 599].map(isTransientStatus)).toEqual([true, true, true, true, true, true, true, true]);
    expect([400, 401, 403, 404, 409, 412, 422].map(isTransientStatus)).toEqual([false, false, false, false, false, false, false]);
    expect([200, 204, 304, 600].map(isTransientStatus)).toEqual([false, false, false, false]);
  });
});

describe('withRetry within a budget', () => {
  /** A clock that only the recorded sleeps move. */
  function clock() {
    let t = 1_000_000;
    const waits: number[] = [];
    return { waits, hooks: { now: () => t, sleep: (ms: number) => ((t += ms), waits.push(ms), Promise.resolve()), random: () => 0.999_999 } };
  }

  it('tells each attempt a deadline no later than its time-out or the call budget', async () => {
    const { hooks } = clock();
    const seen: number[] = [];
    await withRetry(
      (attempt, at) => {
        seen.push(at.deadline - hooks.now());
        return attempt < 3 ? Promise.reject(upstream(503, true, 2_000)) : Promise.resolve();
      },
      { ...policy, attemptTimeoutMs: 5_000, budgetMs: 9_000 },
      hooks,
    );
    // 9 s budget and 2 s waits: every attempt still has its full 5 s (the third starts at 4 s).
    expect(seen).toEqual([5_000, 5_000, 5_000]);
    const last: number[] = [];
    await withRetry(
      (attempt, at) => {
        last.push(at.deadline - hooks.now());
        return attempt < 2 ? Promise.reject(upstream(503, true, 6_000)) : Promise.resolve();
      },
      { ...policy, maxInlineWaitMs: 10_000, attemptTimeoutMs: 5_000, budgetMs: 9_000 },
      hooks,
    );
    // After a 6 s wait only 3 s of the budget are left: the second attempt is cut to them.
    expect(last).toEqual([5_000, 3_000]);
  });

  it('does not sleep past the budget: the transient error goes back to the caller to defer', async () => {
    const { waits, hooks } = clock();
    let calls = 0;
    const err = upstream(503, true, 4_000);
    await expect(withRetry(() => (++calls, Promise.reject(err)), { ...policy, maxInlineWaitMs: 10_000, budgetMs: 9_000 }, hooks)).rejects.toBe(err);
    expect(calls).toBe(3);
    expect(waits).toEqual([4_000, 4_000]);
  });

  it('shares an explicit deadline across the calls of one operation', async () => {
    const { waits, hooks } = clock();
    let calls = 0;
    const err = upstream(503, true, 1_000);
    await expect(withRetry(() => (++calls, Promise.reject(err)), policy, { ...hooks, deadline: hooks.now() + 1_500 })).rejects.toBe(err);
    expect(calls).toBe(2);
    expect(waits).toEqual([1_000]);
  });

  it('retries a call that is not idempotent only after a failure proving it was never sent', async () => {
    const { hooks } = clock();
    let calls = 0;
    const ambiguous = upstream(500, true);
    await expect(withRetry(() => (++calls, Promise.reject(ambiguous)), policy, { ...hooks, retryIf: isUnsent })).rejects.toBe(ambiguous);
    expect(calls).toBe(1);
    const reset = new UpstreamError({ service: 'Jira', transient: true, upstreamCode: 'NetworkError', message: 'reset' });
    await expect(withRetry(() => (++calls, Promise.reject(reset)), policy, { ...hooks, retryIf: isUnsent })).rejects.toBe(reset);
    expect(calls).toBe(2);
    const refused = new UpstreamError({ service: 'Jira', transient: true, upstreamCode: 'ConnectFailed', message: 'refused' });
    const result = await withRetry((attempt) => (++calls, attempt === 1 ? Promise.reject(upstream(429, true, 10)) : attempt === 2 ? Promise.reject(refused) : Promise.resolve('sent')), policy, { ...hooks, retryIf: isUnsent });
    expect(result).toBe('sent');
    expect(calls).toBe(5);
  });

  it('keeps one call, retries and waits included, inside the engine step lease of 15 s', () => {
    expect(CALL_ATTEMPT_TIMEOUT_MS).toBeLessThanOrEqual(10_000);
    expect(CALL_BUDGET_MS).toBeGreaterThanOrEqual(CALL_ATTEMPT_TIMEOUT_MS);
    expect(CALL_BUDGET_MS).toBeLessThan(15_000);
    expect(defaultRetryPolicy).toMatchObject({ attemptTimeoutMs: CALL_ATTEMPT_TIMEOUT_MS, budgetMs: CALL_BUDGET_MS });
  });
});
