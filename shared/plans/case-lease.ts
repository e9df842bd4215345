import { nextTurn } from '../async/next-turn';
import { AppError } from '../errors';
import type { CaseStore, LoadedCase } from '../store/case-store';
import { LEASE_ROW, type LeaseRecord } from '../store/case-model';
import { TRANSACTION_MAX } from '../store/record-table';
import { isConflict } from '../store/storage';

/** Another worker runs this case: try again once its lease lapses (the message goes back to the queue). */
export class CaseBusyError extends AppError {
  constructor(
    readonly caseId: string,
    readonly retryAfterMs: number,
  ) {
    super('CaseBusy', 409, `case ${caseId} is running in another worker`);
  }
}

/** Our lease lapsed and another worker took the case over: nothing more may be written by this run. */
export class LeaseLostError extends AppError {
  constructor(readonly caseId: string) {
    super('LeaseLost', 409, `the lease on case ${caseId} was taken over by another worker`);
  }
}

/** Rows a run writes: upserts only, so the lease row is the one row a run's transaction can conflict on (see `fenced`). */
type Op = Parameters<CaseStore['transact']>[1][number] & { op: 'upsert' };

interface Waiter {
  ops: Op[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The lease that lets one worker at a time run a case, and the only way that worker writes to the case's
 * partition: every write is an entity group transaction that also renews the lease row, conditional on its
 * etag. A worker whose lease lapsed and was taken over therefore cannot write anything more (its transactions
 * fail as a whole): step completions are fenced, not merely timed.
 *
 * Writes are coalesced: while one transaction is in flight, later writes queue and go out together in the next
 * (at most 99 rows beside the lease row), so a case with hundreds of targets costs a handful of round trips.
 */
export class CaseLease {
  private etag: string;
  private queue: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private lost = false;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly store: Pick<CaseStore, 'transact' | 'getLease' | 'leaseStoredAs'>,
    readonly caseId: string,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly now: () => number,
    etag: string,
    /** The lease row's etag we replaced, or undefined when we created the row (the case's first run). */
    readonly takenFrom: string | undefined,
    private runs: number,
  ) {
    this.etag = etag;
    this.timer = setInterval(() => {
      if (!this.flushing && this.queue.length === 0) {
        void this.write([]).catch(() => undefined); // a lost lease is seen by the next real write
      }
    }, Math.max(1_000, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  /**
   * Takes the case's lease: creates the lease row, or takes over one that is free or lapsed. Throws
   * {@link CaseBusyError} while another worker holds it.
   */
  static async acquire(store: Pick<CaseStore, 'transact' | 'getLease' | 'leaseStoredAs'>, caseId: string, owner: string, leaseMs: number, now: () => number): Promise<CaseLease> {
    for (;;) {
      const fresh: LeaseRecord = { owner, until: now() + leaseMs, runs: 1 };
      try {
        const etags = await store.transact(caseId, [{ op: 'create', rowKey: LEASE_ROW, value: fresh }]);
        return new CaseLease(store, caseId, owner, leaseMs, now, etags.get(LEASE_ROW) ?? '*', undefined, 1);
      } catch (err) {
        if (!isConflict(err)) {
          throw err;
        }
      }
      const current = await store.getLease(caseId);
      if (!current) {
        continue;
      }
      const held = current.value;
      const t = now();
      if (held.owner !== undefined && held.owner !== owner && (held.until ?? 0) > t) {
        throw new CaseBusyError(caseId, (held.until ?? t) - t);
      }
      const runs = (held.runs ?? 0) + 1;
      try {
        const etags = await store.transact(caseId, [{ op: 'replace', rowKey: LEASE_ROW, value: { owner, until: t + leaseMs, runs }, etag: current.etag }]);
        return new CaseLease(store, caseId, owner, leaseMs, now, etags.get(LEASE_ROW) ?? '*', current.etag, runs);
      } catch (err) {
        if (!isConflict(err)) {
          throw err;
        }
      }
    }
  }

  /**
   * Whether a load that ran alongside {@link acquire} saw every write of the runs before ours: each of their
   * writes moved the lease row, so a snapshot holding the etag we replaced (or ours) is after all of them.
   */
  isCurrent(loaded: Pick<LoadedCase, 'leaseEtag' | 'rows'>): boolean {
    if (loaded.rows > 1000) {
      return false; // several pages: not one point in time
    }
    return this.takenFrom === undefined || loaded.leaseEtag === this.takenFrom || loaded.leaseEtag === this.etag;
  }

  /**
   * Writes `ops` (rows of the case's partition) atomically with a renewal of the lease. A `deferred` write starts no
   * transaction of its own: it rides with the next write, or with {@link release} (a case marked running goes out
   * with what the reads found; its final status with the lease given back), one round trip fewer each.
   */
  write(ops: Op[], opts: { deferred?: boolean } = {}): Promise<void> {
    if (this.lost) {
      return Promise.reject(new LeaseLostError(this.caseId));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!opts.deferred) {
        this.kick();
      }
    });
  }

  /**
   * Starts flushing unless a flush runs; a write queued as a flush ends is picked up by the next one. The first
   * transaction goes out on the next turn of the event loop, not at once: every write the run makes in the same
   * turn rides in it, and whatever the run was about to send (the access cut right after recording what the reads
   * found) leaves before the Storage SDK builds and signs the transaction.
   */
  private kick(): void {
    if (this.flushing) {
      return;
    }
    this.flushing = nextTurn().then(() => this.flush()).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) {
        this.kick();
      }
    });
  }

  /**
   * Waits for queued writes, stops renewing, and frees the lease for the next run, in the same transaction as the
   * writes still waiting (deferred ones). When it fails, those writes fail with it: a conflict means another worker
   * took the case over (it writes the case from now on); any other failure is thrown, so the run is retried.
   */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing?.catch(() => undefined);
    const waiting = this.queue.splice(0);
    if (this.lost) {
      waiting.forEach((w) => w.reject(new LeaseLostError(this.caseId)));
      return;
    }
    const ops = mergeRows(waiting);
    try {
      // More rows than one transaction holds: all but the last chunk go out as ordinary fenced writes first.
      while (ops.length > TRANSACTION_MAX - 1) {
        await this.transactRenewing(ops.splice(0, TRANSACTION_MAX - 1));
      }
      const free: LeaseRecord = { runs: this.runs };
      await this.fenced(free, ops);
      waiting.forEach((w) => w.resolve());
    } catch (err) {
      waiting.forEach((w) => w.reject(isConflict(err) ? new LeaseLostError(this.caseId) : err));
      if (!isConflict(err)) {
        throw err;
      }
    }
  }

  /** One transaction of `ops` with the lease row renewed, conditional on its etag. */
  private async transactRenewing(ops: Op[]): Promise<void> {
    this.etag = await this.fenced({ owner: this.owner, until: this.now() + this.leaseMs, runs: this.runs }, ops);
  }

  /**
   * Writes `ops` with the lease row set to `lease`, in one transaction conditional on the lease's etag; returns the
   * lease row's new etag. A conflict means another worker took the case over, unless the lease row holds exactly
   * `lease` (no other worker writes this owner, this expiry or this run count): then the transaction was stored,
   * rows and lease together, and only its answer was lost (the Storage SDK's retry met it).
   */
  private async fenced(lease: LeaseRecord, ops: Op[]): Promise<string> {
    try {
      const etags = await this.store.transact(this.caseId, [{ op: 'replace', rowKey: LEASE_ROW, value: lease, etag: this.etag }, ...ops]);
      return etags.get(LEASE_ROW) ?? this.etag;
    } catch (err) {
      const stored = isConflict(err) ? await this.store.leaseStoredAs(this.caseId, lease) : undefined;
      if (!stored) {
        throw err;
      }
      return stored.etag;
    }
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch: Waiter[] = [];
      const rows = new Set<string>();
      while (this.queue.length > 0) {
        const next = this.queue[0];
        if (!next) {
          break;
        }
        next.ops.forEach((o) => rows.add(o.rowKey));
        if (rows.size > TRANSACTION_MAX - 1 && batch.length > 0) {
          break;
        }
        this.queue.shift();
        batch.push(next);
      }
      const ops = mergeRows(batch);
      try {
        for (let i = 0; i < Math.max(1, ops.length); i += TRANSACTION_MAX - 1) {
          await this.transactRenewing(ops.slice(i, i + TRANSACTION_MAX - 1));
        }
        batch.forEach((w) => w.resolve());
      } catch (err) {
        const failure = isConflict(err) ? new LeaseLostError(this.caseId) : err;
        if (isConflict(err)) {
          this.lost = true;
          clearInterval(this.timer);
          this.queue.splice(0).forEach((w) => w.reject(failure));
        }
        batch.forEach((w) => w.reject(failure));
      }
    }
  }
}

/** The rows of queued writes, each once, as last written (one transaction may touch a row only once). */
function mergeRows(writes: readonly Waiter[]): Op[] {
  const byRow = new Map<string, Op>();
  for (const w of writes) {
    for (const op of w.ops) {
      byRow.set(op.rowKey, op);
    }
  }
  return [...byRow.values()];
}
