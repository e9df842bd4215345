import { CASE_ROW, stepRow, targetRow, type CaseRecord, type StepRecord, type TargetRecord } from '../store/case-model';
import { caseColumns, stepColumns, targetColumns, type LoadedCase } from '../store/case-store';
import type { CaseLease } from './case-lease';

/** A write that may ride with the next one instead of starting a transaction (see CaseLease.write). */
export interface Deferrable {
  deferred?: boolean;
}

/**
 * A case loaded once by the worker that holds its lease, kept in memory for the whole run and written through
 * the lease (each write fenced and coalesced, see CaseLease). Nothing else writes these rows while the lease is
 * held, so the run never reads the case again.
 */
export class CaseSession {
  readonly targets = new Map<string, TargetRecord>();
  readonly steps = new Map<string, StepRecord>();
  record: CaseRecord;
  private readonly writes: Promise<void>[] = [];

  constructor(
    private readonly lease: CaseLease,
    loaded: Pick<LoadedCase, 'record' | 'targets' | 'steps'>,
    private readonly now: () => number,
  ) {
    this.record = loaded.record;
    loaded.targets.forEach((t) => this.targets.set(t.key, t));
    loaded.steps.forEach((s) => this.steps.set(s.stepId, s));
  }

  get caseId(): string {
    return this.record.caseId;
  }

  /** Records a target's new state; resolves once it is stored (a `deferred` one: see {@link saveRecord}). */
  saveTarget(target: TargetRecord, opts: Deferrable = {}): Promise<void> {
    this.targets.set(target.key, target);
    return this.write([{ op: 'upsert', rowKey: targetRow(target.key), value: target, columns: targetColumns(target) }], opts);
  }

  /** Records a step's new state (a `deferred` one: see {@link saveRecord}). */
  saveStep(step: StepRecord, opts: Deferrable = {}): Promise<void> {
    this.steps.set(step.stepId, step);
    return this.write([{ op: 'upsert', rowKey: stepRow(step.stepId), value: step, columns: stepColumns(step) }], opts);
  }

  /** Saves a step and its target in one transaction (a step's outcome and what it means for the target). */
  saveStepAndTarget(step: StepRecord, target: TargetRecord): Promise<void> {
    this.steps.set(step.stepId, step);
    this.targets.set(target.key, target);
    return this.track(
      this.lease.write([
        { op: 'upsert', rowKey: stepRow(step.stepId), value: step, columns: stepColumns(step) },
        { op: 'upsert', rowKey: targetRow(target.key), value: target, columns: targetColumns(target) },
      ]),
    );
  }

  /** Saves a step and a change of the case record in one transaction (a ticket step and the ticket's reference). */
  saveStepAndRecord(step: StepRecord, change: (record: CaseRecord) => void): Promise<void> {
    this.steps.set(step.stepId, step);
    const next = this.changed(change);
    return this.track(
      this.lease.write([
        { op: 'upsert', rowKey: stepRow(step.stepId), value: step, columns: stepColumns(step) },
        { op: 'upsert', rowKey: CASE_ROW, value: next, columns: caseColumns(next) },
      ]),
    );
  }

  /**
   * Applies `change` to the case record and stores it. A `deferred` change rides with the next write or with the
   * lease's release (see CaseLease.write); it is not awaited by {@link settled}: the write or release it goes out
   * with fails with it, and that failure is what the run sees.
   */
  saveRecord(change: (record: CaseRecord) => void, opts: Deferrable = {}): Promise<void> {
    const next = this.changed(change);
    return this.write([{ op: 'upsert', rowKey: CASE_ROW, value: next, columns: caseColumns(next) }], opts);
  }

  private write(ops: Parameters<CaseLease['write']>[0], opts: Deferrable): Promise<void> {
    const write = this.lease.write(ops, opts);
    if (opts.deferred) {
      write.catch(() => undefined);
      return write;
    }
    return this.track(write);
  }

  private changed(change: (record: CaseRecord) => void): CaseRecord {
    const next = structuredClone(this.record);
    change(next);
    next.updatedAt = new Date(this.now()).toISOString();
    this.record = next;
    return next;
  }

  /**
   * Stores what the run wrote so far through the lease, deferred writes too: resolves once the case's rows say what
   * this run decided, and throws LeaseLostError when another run took the case over. Taken before this run gives back
   * claims or slots, which another run holding the lease may be using.
   */
  fence(): Promise<void> {
    return this.track(this.lease.write([]));
  }

  /** Waits for every write made so far; throws the first that failed. */
  async settled(): Promise<void> {
    const pending = this.writes.splice(0);
    const results = await Promise.allSettled(pending);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      throw failed.reason;
    }
  }

  /** Awaited with the case's writes by {@link settled} (audit rows written beside the run). */
  track(write: Promise<void>): Promise<void> {
    this.writes.push(write);
    write.catch(() => undefined); // awaited by `settled`; this only keeps an early failure from counting as unhandled
    return write;
  }
}
