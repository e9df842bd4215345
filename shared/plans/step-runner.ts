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
  /** How long a running step is protected from other workers (a crashed worker's lease expires). */
  leaseMs: number;
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
  for (;;) {
    let current = await ctx.store.getStep(ctx.caseId, spec.stepId);
    if (!current) {
      const fresh: StepRecord = { ...spec, state: 'pending', attempts: 0, requestIds: [] };
      try {
        const etag = await ctx.store.insertStep(ctx.caseId, fresh);
        current = { partitionKey: ctx.caseId, rowKey: spec.stepId, value: fresh, etag };
      } catch (err) {
        if (isConflict(err)) {
          continue;
        }
        throw err;
      }
    }
    const step = current.value;
    if (isTerminal(step.state)) {
      return { finished: step };
    }
    const now = ctx.now();
    if (step.state === 'running' && step.leaseUntil !== undefined && step.leaseUntil > now && step.leaseOwner !== ctx.owner) {
      throw new StepBusyError(spec.stepId, step.leaseUntil - now);
    }
    const leased: StepRecord = {
      ...step,
      description: spec.description,
      state: 'running',
      attempts: step.attempts + 1,
      leaseOwner: ctx.owner,
      leaseUntil: now + ctx.leaseMs,
      startedAt: step.startedAt ?? new Date(now).toISOString(),
    };
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
  try {
    const result = await exec();
    return await finishStep(ctx, claim, 'done', result);
  } catch (err) {
    if (isTransient(err)) {
      await releaseStep(ctx, claim, err);
      throw err;
    }
    return finishStep(ctx, claim, 'failed', { error: err });
  }
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
