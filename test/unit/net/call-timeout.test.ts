import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UpstreamError } from '../../../shared/errors';
import { withTimeout } from '../../../shared/net/call-timeout';

describe('withTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives up on a call that never settles with a transient time-out, and aborts its signal', async () => {
    let seen: AbortSignal | undefined;
    const call = withTimeout('ARM', 10_000, (signal) => {
      seen = signal;
      return new Promise<never>(() => undefined);
    });
    const outcome = call.then(
      () => 'answered',
      (err: unknown) => err,
    );
    await vi.advanceTimersByTimeAsync(9_999);
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const err = await outcome;
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ service: 'ARM', transient: true, upstreamCode: 'Timeout', message: 'ARM did not answer within 10000 ms' });
    expect(seen?.aborted).toBe(true);
  });

  it('reports the time-out, not the AbortError, when the call honours the signal', async () => {
    const call = withTimeout('Graph', 50, (signal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))));
    const outcome = call.catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(50);
    expect(await outcome).toMatchObject({ upstreamCode: 'Timeout', transient: true });
  });

  it("returns the call's answer, and its own failure, untouched", async () => {
    await expect(withTimeout('Jira', 1_000, () => Promise.resolve(42))).resolves.toBe(42);
    const permanent = new UpstreamError({ service: 'Jira', httpStatus: 400, transient: false, message: 'Jira answered 400' });
    await expect(withTimeout('Jira', 1_000, () => Promise.reject(permanent))).rejects.toBe(permanent);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends nothing when the budget is already spent', async () => {
    const run = vi.fn(() => Promise.resolve('sent'));
    await expect(withTimeout('ServiceNow', 0, run)).rejects.toMatchObject({ upstreamCode: 'Timeout', transient: true });
    expect(run).not.toHaveBeenCalled();
  });
});
