import { AppError } from '../errors';
import { RecordTable } from '../store/record-table';
import { TABLES, type Storage } from '../store/storage';

/** Whether the responder may write, and who stopped it. */
export interface StopState {
  stopped: boolean;
  /** `setting`: EMERGENCY_STOP is on (lifted only by changing it); `admin`: the admin action. */
  source?: 'setting' | 'admin';
  reason?: string;
  by?: string;
  at?: string;
}

/** A write refused because the emergency stop is on. The work waits (deferred), it is not failed. */
export class EmergencyStopError extends AppError {
  constructor(readonly state: StopState) {
    super('EmergencyStop', 503, `Emergency stop is on${state.reason ? `: ${state.reason}` : ''}. Nothing is written until it is lifted.`);
  }
}

const PARTITION = 'control';
const ROW = 'emergency-stop';

/**
 * The emergency stop: one setting (`EMERGENCY_STOP`) or one admin action (a row in the `control` table) halts
 * every Graph, ARM and ticket write. It is read before each write rather than once per case, so queued,
 * deferred, recovered and approved work stops too; the row is cached for `cacheMs` so checking it costs a storage
 * read at most every two seconds per worker.
 */
export class EmergencyStop {
  private cached: { state: StopState; at: number } | undefined;
  private reading: Promise<StopState> | undefined;

  constructor(
    private readonly table: RecordTable<StopState>,
    private readonly setting: boolean,
    private readonly now: () => number = Date.now,
    private readonly cacheMs = 2_000,
  ) {}

  static async open(storage: Storage, setting: boolean, now: () => number = Date.now): Promise<EmergencyStop> {
    return new EmergencyStop(new RecordTable<StopState>(await storage.table(TABLES.control)), setting, now);
  }

  /** The current state; the setting wins over the row. */
  async state(): Promise<StopState> {
    if (this.setting) {
      return { stopped: true, source: 'setting', reason: 'EMERGENCY_STOP is set' };
    }
    if (this.cached && this.now() - this.cached.at < this.cacheMs) {
      return this.cached.state;
    }
    this.reading ??= this.table
      .get(PARTITION, ROW)
      .then((row) => {
        const state = row?.value ?? { stopped: false };
        this.cached = { state, at: this.now() };
        return state;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  /** Throws {@link EmergencyStopError} while the stop is on. */
  async assertRunning(): Promise<void> {
    const state = await this.state();
    if (state.stopped) {
      throw new EmergencyStopError(state);
    }
  }

  /** The admin action: stops or resumes every worker within `cacheMs`. */
  async set(stopped: boolean, reason: string, by: string): Promise<StopState> {
    const state: StopState = { stopped, source: 'admin', reason, by, at: new Date(this.now()).toISOString() };
    await this.table.upsert(PARTITION, ROW, state);
    this.cached = { state, at: this.now() };
    return state;
  }
}
