import { AppError, UpstreamError, ensureError } from '../errors';
import type { CaseStore } from '../store/case-store';
import type { StepAction, StepRecord, StepState } from '../store/case-model';
import { isConflict } from '../store/storage';

/** Another worker holds this step's lease: try again after it expires (the message goes back to the queue). */
export class StepBusyError extends AppError {
  constructor(readonly stepId: string, readonly retryAfterMs: number) {
    super('StepBusy', 409, `step ${stepId} is running in another worker`);
  }
}

export interface StepSpec {
  stepId: string;
  targetKey: string;
  action: StepAction;
  description: string;
}

export interface StepContext {
  store: CaseStore;
  caseId: string;
  /** Invocation id of the worker, recorded as the lease owner. */
  owner: string;
  /**
   * How long a running step is protected from other workers. The lease is renewed while the side effect runs
   * (see {@link keepLease}), so it can be short: a crashed worker's step is taken over once it lapses.
   */
  leaseMs: number;
  /** How often a running step's lease is renewed; a third of `leaseMs` (at least 1 s) by default. */
  renewEveryMs?: number;
  now: () => number;
}

export interface StepResult {
  requestIds?: string[];
  detail?: string;
}

const TERMINAL: ReadonlySet<StepState> = new Set(['done', 'skipped', 'failed', 'would-do', 'held']);

export function isTerminal(state: StepState): boolean {
  return TERMINAL.has(state);
}

export interface Claim {
  step: StepRecord;
  etag: string;
}

/**
 * Takes the lease of a step so that exactly one worker runs its side effect. Returns the finished record
 * instead when the step already reached a terminal state (a retry, a duplicate message, a second worker).
 */
export async function claimStep(ctx: StepContext, spec: StepSpec): Promise<Claim | { finished: StepRecord }> {
  const lease = (step: StepRecord, now: number): StepRecord => ({
    ...step,
    description: spec.description,
    state: 'running',
    attempts: step.attempts + 1,
    leaseOwner: ctx.owner,
    leaseUntil: now + ctx.leaseMs,
    startedAt: step.startedAt ?? new Date(now).toISOString(),
  });
  for (;;) {
    // A step runs for the first time far more often than it is retried: create it already leased, one round
    // trip on the critical path (the disable). It exists when the insert conflicts; read it then.
    const fresh = lease({ ...spec, state: 'pending', attempts: 0, requestIds: [] }, ctx.now());
    try {
      const etag = await ctx.store.insertStep(ctx.caseId, fresh);
      return { step: fresh, etag };
    } catch (err) {
      if (!isConflict(err)) {
        throw err;
      }
    }
    const current = await ctx.store.getStep(ctx.caseId, spec.stepId);
    if (!current) {
      continue; // gone again (never in practice): insert anew
    }
    const step = current.value;
    if (isTerminal(step.state)) {
      return { finished: step };
    }
    const now = ctx.now();
    if (step.state === 'running' && step.leaseUntil !== undefined && step.leaseUntil > now && step.leaseOwner !== ctx.owner) {
      throw new StepBusyError(spec.stepId, step.leaseUntil - now);
    }
    const leased = lease(step, now);
    try {
      const etag = await ctx.store.replaceStep(ctx.caseId, leased, current.etag);
      return { step: leased, etag };
    } catch (err) {
      if (isConflict(err)) {
        continue; // someone else moved it; read again
      }
      throw err;
    }
  }
}

/**
 * Renews the lease of a claimed step until the returned function is called; that function waits for a renewal
 * in flight and returns the step's latest etag, or `undefined` when another worker took the step over (our
 * lease had lapsed). Renewals are conditional on the etag, so one can never overwrite a later write.
 */
export function keepLease(ctx: StepContext, claim: Claim): () => Promise<string | undefined> {
  let etag: string | undefined = claim.etag;
  let inFlight: Promise<void> = Promise.resolve();
  const renew = async (): Promise<void> => {
    if (etag === undefined) {
      return;
    }
    try {
      etag = await ctx.store.replaceStep(ctx.caseId, { ...claim.step, leaseUntil: ctx.now() + ctx.leaseMs }, etag);
    } catch (err) {
      if (isConflict(err)) {
        etag = undefined; // taken over: stop renewing
      }
      // Other storage errors: the next tick tries again; the lease is still valid for a while.
    }
  };
  const timer = setInterval(() => {
    inFlight = inFlight.then(renew);
  }, ctx.renewEveryMs ?? Math.max(1_000, Math.floor(ctx.leaseMs / 3)));
  return async () => {
    clearInterval(timer);
    await inFlight;
    return etag;
  };
}

/**
 * Holds a lease that guards a whole run rather than one side effect (one worker per case): claimed like a step,
 * renewed until the returned function gives it back. Meanwhile other workers get a {@link StepBusyError}.
 */
export async function holdLease(ctx: StepContext, spec: StepSpec): Promise<() => Promise<void>> {
  const claim = await claimStep(ctx, spec);
  if ('finished' in claim) {
    return () => Promise.resolve(); // a lease row is never finished; nothing to give back
  }
  const stop = keepLease(ctx, claim);
  return async () => {
    const etag = await stop();
    if (etag === undefined) {
      return; // lapsed and taken over: it is not ours to give back
    }
    const free: StepRecord = { ...claim.step, state: 'pending', endedAt: new Date(ctx.now()).toISOString() };
    delete free.leaseUntil;
    delete free.leaseOwner;
    try {
      await ctx.store.replaceStep(ctx.caseId, free, etag);
    } catch (err) {
      if (!isConflict(err)) {
        throw err;
      }
    }
  };
}

/** Runs `exec` while renewing the lease of the claimed step. */
async function underLease<T>(ctx: StepContext, claim: Claim, exec: () => Promise<T>): Promise<T> {
  const stop = keepLease(ctx, claim);
  try {
    return await exec();
  } finally {
    await stop();
  }
}

/** Records the end of a claimed step. */
export async function finishStep(ctx: StepContext, claim: Claim, state: StepState, result: StepResult & { error?: unknown } = {}): Promise<StepRecord> {
  const step: StepRecord = {
    ...claim.step,
    state,
    endedAt: new Date(ctx.now()).toISOString(),
    requestIds: [...claim.step.requestIds, ...(result.requestIds ?? [])],
  };
  delete step.leaseUntil;
  if (result.detail !== undefined) {
    step.detail = result.detail;
  }
  if (result.error !== undefined) {
    const err = ensureError(result.error);
    step.errorCode = err instanceof AppError ? err.code : 'InternalError';
    step.errorMessage = err instanceof AppError ? err.message : 'Unexpected error (see logs)';
    if (err instanceof UpstreamError && err.requestId) {
      step.requestIds.push(err.requestId);
    }
  }
  // The lease is ours: write unconditionally so a slow worker's result is never lost.
  await ctx.store.replaceStep(ctx.caseId, step, undefined);
  return step;
}

/** Gives a claimed step back after a transient failure, so a retry runs it again. */
export async function releaseStep(ctx: StepContext, claim: Claim, error: unknown): Promise<void> {
  const err = ensureError(error);
  const step: StepRecord = { ...claim.step, state: 'pending', errorCode: err instanceof AppError ? err.code : 'InternalError', errorMessage: err.message.slice(0, 500) };
  delete step.leaseUntil;
  delete step.leaseOwner;
  if (err instanceof UpstreamError && err.requestId) {
    step.requestIds = [...step.requestIds, err.requestId];
  }
  await ctx.store.replaceStep(ctx.caseId, step, undefined);
}

/** Whether an error should fail the step for good (permanent) or be retried later (transient). */
export function isTransient(err: unknown): boolean {
  return (err instanceof UpstreamError && err.transient) || err instanceof StepBusyError;
}

/**
 * Runs one step exactly once across retries: claim, run `exec`, record the outcome. Permanent errors fail
 * the step (the other steps still run); transient errors give the step back and are rethrown.
 */
export async function runStep(ctx: StepContext, spec: StepSpec, exec: () => Promise<StepResult>): Promise<StepRecord> {
  const claim = await claimStep(ctx, spec);
  if ('finished' in claim) {
    return claim.finished;
  }
  let result: StepResult;
  try {
    result = await underLease(ctx, claim, exec);
  } catch (err) {
    if (isTransient(err)) {
      await releaseStep(ctx, claim, err);
      throw err;
    }
    return finishStep(ctx, claim, 'failed', { error: err });
  }
  // Outside the try: a storage error while recording success must not record the step as failed.
  return finishStep(ctx, claim, 'done', result);
}

/** Records a step that does not run now (skipped, held, would-do) unless it already finished. */
export async function settleStep(ctx: StepContext, spec: StepSpec, state: 'skipped' | 'held' | 'would-do', detail: string, extra: Partial<StepRecord> = {}): Promise<StepRecord> {
  const claim = await claimStep(ctx, spec);
  if ('finished' in claim) {
    return claim.finished;
  }
  const step = await finishStep(ctx, { ...claim, step: { ...claim.step, ...extra } }, state, { detail });
  return step;
}

/** Puts a held step back to pending once its approval is granted. */
export async function reopenHeldStep(ctx: StepContext, id: string): Promise<void> {
  for (;;) {
    const current = await ctx.store.getStep(ctx.caseId, id);
    if (!current || current.value.state !== 'held') {
      return;
    }
    try {
      await ctx.store.replaceStep(ctx.caseId, { ...current.value, state: 'pending' }, current.etag);
      return;
    } catch (err) {
      if (!isConflict(err)) {
        throw err;
      }
    }
  }
}
