import { randomUUID } from 'node:crypto';
import { AppError } from '../errors';
import { FIRST_INVENTORY_PAGE, type InventoryCursor } from '../graph/agent-inventory';
import { RecordTable } from '../store/record-table';
import { isConflict, TABLES, type Storage } from '../store/storage';
import { emptyTally, type GraphTally } from './counting-graph';

/** What a sweep found and did; actions are counted as "would do" in report-only mode. */
export interface SweepCounts {
  seen: number;
  /** No end of lifecycle found: never expires. */
  noEndDate: number;
  expiring: number;
  /** Past the end date (those past the grace period included). */
  expired: number;
  pastGrace: number;
  orphaned: number;
  /** Expired, but the responder itself, Microsoft first party or `PROTECTED_IDENTITIES`: never disabled. */
  protected: number;
  warned: number;
  disableCases: number;
  deleteCases: number;
  orphanTickets: number;
  /** Rule matches whose action an earlier sweep already took. */
  alreadyHandled: number;
  errors: number;
}

export const emptyCounts = (): SweepCounts => ({
  seen: 0,
  noEndDate: 0,
  expiring: 0,
  expired: 0,
  pastGrace: 0,
  orphaned: 0,
  protected: 0,
  warned: 0,
  disableCases: 0,
  deleteCases: 0,
  orphanTickets: 0,
  alreadyHandled: 0,
  errors: 0,
});

/** The one sweep in progress (or the last one finished), as checkpointed after every page. */
export interface SweepState {
  sweepId: string;
  status: 'running' | 'done';
  mode: 'enforce' | 'report-only';
  startedAt: string;
  finishedAt?: string;
  /** The next page to read; undefined once every page was read. */
  cursor: InventoryCursor | undefined;
  pages: number;
  counts: SweepCounts;
  graph: GraphTally;
  /** Time spent in runs, summed over the runs that made up the sweep. */
  activeMs: number;
  /** Invocations that worked on this sweep (more than one after a run was cut short). */
  runs: number;
  /** Invocation holding the lease, and until when (epoch ms); 0 = released. */
  owner: string;
  leaseUntil: number;
}

/** Another run took the sweep over (our lease had expired): stop without writing anything more. */
export class SweepLeaseLostError extends AppError {
  constructor(sweepId: string) {
    super('SweepLeaseLost', 409, `sweep ${sweepId}: another run holds the lease`);
  }
}

const PARTITION = 'lifecycle';
const ROW = 'sweep';

export type Acquired = { busy: false; state: SweepState; etag: string; resumed: boolean } | { busy: true; state: SweepState };

/**
 * The sweep's checkpoint and lease in one row of the `sweeps` table, written with its etag: whoever writes
 * it holds the lease, and a run whose lease was taken over fails its next write instead of acting on.
 */
export class SweepCheckpoint {
  private constructor(private readonly table: RecordTable<SweepState>) {}

  static async open(storage: Storage): Promise<SweepCheckpoint> {
    return new SweepCheckpoint(new RecordTable<SweepState>(await storage.table(TABLES.sweeps)));
  }

  async read(): Promise<SweepState | undefined> {
    return (await this.table.get(PARTITION, ROW))?.value;
  }

  /**
   * Takes the lease: resumes an unfinished sweep of the same mode whose lease expired (a run cut short), or
   * starts a new sweep; `busy` while another run's lease is live.
   */
  async acquire(owner: string, mode: SweepState['mode'], now: number, leaseMs: number): Promise<Acquired> {
    for (;;) {
      const current = await this.table.get(PARTITION, ROW);
      const prev = current?.value;
      if (prev && prev.status === 'running' && prev.leaseUntil > now && prev.owner !== owner) {
        return { busy: true, state: prev };
      }
      // A sweep keeps one mode: after a switch (say, report-only to enforce) the next run starts a fresh sweep.
      const resumed = prev !== undefined && prev.status === 'running' && prev.mode === mode;
      const state: SweepState = resumed
        ? { ...prev, owner, leaseUntil: now + leaseMs, runs: prev.runs + 1 }
        : {
            sweepId: randomUUID(),
            status: 'running',
            mode,
            startedAt: new Date(now).toISOString(),
            cursor: { ...FIRST_INVENTORY_PAGE },
            pages: 0,
            counts: emptyCounts(),
            graph: emptyTally(),
            activeMs: 0,
            runs: 1,
            owner,
            leaseUntil: now + leaseMs,
          };
      try {
        const etag = current ? await this.table.replace(PARTITION, ROW, state, current.etag) : await this.table.insert(PARTITION, ROW, state);
        return { busy: false, state, etag, resumed };
      } catch (err) {
        if (!isConflict(err)) {
          throw err;
        }
        // Another run wrote first: read again (it most likely holds the lease now).
      }
    }
  }

  /**
   * Saves progress and renews the lease; throws {@link SweepLeaseLostError} when another run took over. A conflict
   * is checked: when the row holds exactly `state`, this save was stored and its answer lost (the SDK's retry met
   * it), and the run goes on.
   */
  async save(state: SweepState, etag: string): Promise<string> {
    try {
      return await this.table.replaceChecked(PARTITION, ROW, state, etag);
    } catch (err) {
      if (isConflict(err)) {
        throw new SweepLeaseLostError(state.sweepId);
      }
      throw err;
    }
  }
}
