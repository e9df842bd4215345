import { AppError, ensureError, UpstreamError } from '../errors';
import { EmergencyStopError, type EmergencyStop } from '../control/emergency-stop';
import { WritePendingError } from '../tickets/write-once';
import { stepId, type StepRecord, type StepState, type TargetRecord } from '../store/case-model';
import type { CaseSession } from './case-session';
import type { PlanStep } from './planner';
import { recordAccessCut, recordStep } from './engine-telemetry';

/** Step states that are never run again. */
const FINISHED: ReadonlySet<StepState> = new Set(['done', 'skipped', 'failed', 'would-do']);

export function isFinished(step: Pick<StepRecord, 'state'> | undefined): boolean {
  return step !== undefined && FINISHED.has(step.state);
}

/** Whether an error means "try again later" (the work waits in the queue) rather than "this failed". */
export function isTransient(err: unknown): boolean {
  return (err instanceof UpstreamError && err.transient) || err instanceof EmergencyStopError;
}

export interface StepRunContext {
  session: CaseSession;
  stop: Pick<EmergencyStop, 'assertRunning'>;
  reportOnly: boolean;
  now: () => number;
}

/**
 * Runs a target's plan once across retries, crashes and duplicate deliveries: the first step (the access cut)
 * alone, then the others together. A step already finished is never run again; a transient failure leaves the
 * step pending (with its error) and is rethrown after the other steps ran, so the case is retried later and only
 * the unfinished steps run again.
 */
export async function runPlanSteps(ctx: StepRunContext, target: TargetRecord, steps: readonly PlanStep[]): Promise<void> {
  const [first, ...rest] = steps;
  if (!first) {
    return;
  }
  const transient: unknown[] = [];
  const collect = (err: unknown): undefined => {
    if (!isTransient(err)) {
      throw err;
    }
    transient.push(err);
    return undefined;
  };
  const firstRecord = await runStep(ctx, slotOf(target, first), first).catch(collect);
  await Promise.all(
    rest.map(async (step) => {
      if (step.onlyIfFirstDone && firstRecord?.state !== 'done') {
        if (firstRecord !== undefined) {
          await settle(ctx, slotOf(target, step), step, 'skipped', `not run: "${first.description}" did not succeed`);
        }
        return;
      }
      await runStep(ctx, slotOf(target, step), step).catch(collect);
    }),
  );
  if (transient.length > 0) {
    throw transient[0];
  }
}

/** Where a step is recorded: its id, its target (`case` for case-level steps) and what it means for the target. */
export interface StepSlot {
  stepId: string;
  targetKey: string;
  round?: number;
  /** The target whose `accessCutAt` a step that cuts access sets. */
  target?: TargetRecord;
  approvalId?: string;
}

function slotOf(target: TargetRecord, step: PlanStep): StepSlot {
  return { stepId: stepId(target.key, target.round, step.action), targetKey: target.key, round: target.round, target, ...(target.approvalId === undefined ? {} : { approvalId: target.approvalId }) };
}

/** Records a step that is not run (skipped, would-do), unless it already finished. */
export async function settle(ctx: StepRunContext, slot: StepSlot, step: Pick<PlanStep, 'action' | 'description'>, state: 'skipped' | 'would-do', detail: string): Promise<StepRecord> {
  const existing = ctx.session.steps.get(slot.stepId);
  if (existing && isFinished(existing)) {
    return existing;
  }
  const at = new Date(ctx.now()).toISOString();
  const record: StepRecord = { ...base(slot, step, existing, at), state, endedAt: at, detail };
  await ctx.session.saveStep(record);
  recordStep(ctx.session.caseId, record);
  return record;
}

function base(slot: StepSlot, step: Pick<PlanStep, 'action' | 'description'>, existing: StepRecord | undefined, at: string): StepRecord {
  return {
    stepId: slot.stepId,
    targetKey: slot.targetKey,
    action: step.action,
    round: slot.round ?? 0,
    description: step.description,
    state: 'running',
    attempts: existing?.attempts ?? 0,
    startedAt: existing?.startedAt ?? at,
    requestIds: existing?.requestIds ?? [],
    ...(existing?.attemptAt === undefined ? {} : { attemptAt: existing.attemptAt }),
    ...(slot.approvalId === undefined ? {} : { approvalId: slot.approvalId }),
  };
}

/**
 * One step. Idempotent calls are sent without a claim (the case lease already keeps other workers out) and only
 * their outcome is recorded; a call that is not idempotent is recorded as started first, so a retry knows an
 * earlier attempt may have taken effect (`prior.attemptAt`). Every record goes through the case lease: a worker
 * whose lease lapsed can record nothing. `onDone` adds what the outcome means to the same write (e.g. the case's
 * ticket reference).
 */
export async function runStep(ctx: StepRunContext, slot: StepSlot, step: PlanStep, onDone?: (done: StepRecord) => Promise<void>): Promise<StepRecord> {
  if (ctx.reportOnly) {
    return settle(ctx, slot, step, 'would-do', 'report-only: not executed');
  }
  const existing = ctx.session.steps.get(slot.stepId);
  if (existing && isFinished(existing)) {
    return existing;
  }
  await ctx.stop.assertRunning();
  const at = new Date(ctx.now()).toISOString();
  const prior = existing?.attemptAt === undefined ? {} : { attemptAt: existing.attemptAt };
  const running: StepRecord = { ...base(slot, step, existing, at), attempts: (existing?.attempts ?? 0) + 1, ...(step.idempotent ? {} : { attemptAt: ctx.now() }) };
  if (!step.idempotent) {
    await ctx.session.saveStep(running);
  }
  let result;
  try {
    result = await step.run(prior);
  } catch (err) {
    const error = ensureError(err);
    const failed: StepRecord = {
      ...running,
      state: isTransient(err) ? 'pending' : 'failed',
      errorCode: error instanceof AppError ? error.code : 'InternalError',
      errorMessage: (error instanceof AppError ? error.message : 'Unexpected error (see logs)').slice(0, 500),
      requestIds: [...running.requestIds, ...(error instanceof UpstreamError && error.requestId ? [error.requestId] : [])],
    };
    if (!isTransient(err)) {
      failed.endedAt = new Date(ctx.now()).toISOString();
    }
    if (err instanceof WritePendingError) {
      // The provider knows exactly when the attempt of unknown outcome went out: the retry waits from then.
      failed.attemptAt = err.attemptedAt;
    }
    await ctx.session.saveStep(failed);
    recordStep(ctx.session.caseId, failed);
    if (isTransient(err)) {
      throw err;
    }
    return failed;
  }
  const endedAt = new Date(ctx.now()).toISOString();
  const done: StepRecord = { ...running, state: 'done', endedAt, requestIds: [...running.requestIds, ...(result.requestIds ?? [])] };
  delete done.errorCode;
  delete done.errorMessage;
  if (result.detail !== undefined) {
    done.detail = result.detail;
  }
  const current = slot.target ? (ctx.session.targets.get(slot.target.key) ?? slot.target) : undefined;
  if (step.cutsAccess && current && current.accessCutAt === undefined) {
    // The end of exposure, recorded with the step in one write.
    await ctx.session.saveStepAndTarget(done, { ...current, accessCutAt: endedAt });
    recordAccessCut(ctx.session.caseId, current, endedAt);
  } else if (onDone) {
    ctx.session.steps.set(done.stepId, done);
    await onDone(done);
  } else {
    await ctx.session.saveStep(done);
  }
  recordStep(ctx.session.caseId, done);
  return done;
}
