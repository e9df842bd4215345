import { ensureError } from '../errors';

/**
 * A timer's sweep over many records, each handled on its own: a record that throws is logged and counted, and the
 * next one is handled. A sweep reads its records in the same order every run, so one record that keeps failing (a
 * read storage keeps refusing) would otherwise stop the same others in every run. Once the sweep did all it could,
 * `finish()` throws if any record failed, so the run shows as failed and the host logs it; each failed record is
 * tried again on the next run.
 *
 * @example
 * const sweep = new IsolatedSweep('approval', deps.log);
 * await sweep.each(rows, (r) => r.value.id, async (row) => expire(row));
 * sweep.finish();
 */
export class IsolatedSweep {
  private readonly failures: Error[] = [];

  /** `noun`: what one record is, in the run's error (`2 approvals not handled …`). */
  constructor(
    private readonly noun: string,
    private readonly log?: { warn(msg: string): void },
  ) {}

  /**
   * Handles each of `items`. Given the read itself (a promise), a read that fails is kept like a failed record and
   * this pass is skipped: the sweep's other passes still run.
   */
  async each<T>(items: Iterable<T> | Promise<Iterable<T>>, nameOf: (item: T) => string, handle: (item: T) => Promise<void>): Promise<void> {
    let list: Iterable<T>;
    try {
      list = await items;
    } catch (err) {
      const error = ensureError(err);
      this.failures.push(error);
      this.log?.warn(`${this.noun}s: not read in this run, read again on the next: ${error.message}`);
      return;
    }
    for (const item of list) {
      try {
        await handle(item);
      } catch (err) {
        const error = ensureError(err);
        this.failures.push(error);
        this.log?.warn(`${this.noun} ${nameOf(item)}: not handled in this run, tried again on the next: ${error.message}`);
      }
    }
  }

  /** Throws an AggregateError naming how many records failed, with the first one's reason; nothing when none did. */
  finish(): void {
    const n = this.failures.length;
    if (n > 0) {
      throw new AggregateError(this.failures, `${n} ${this.noun}${n === 1 ? '' : 's'} not handled in this run, tried again on the next: ${this.failures[0]?.message ?? ''}`);
    }
  }
}
