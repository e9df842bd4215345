import { nextTurn } from '../async/next-turn';
import { TRANSACTION_MAX, type Columns, type RecordTable } from './record-table';
import { isConflict } from './storage';

interface Pending<T> {
  rowKey: string;
  value: T;
  columns: Columns;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Inserts rows of an append-only table, coalesced by partition: rows of one partition written in the same turn of
 * the event loop, or while that partition's previous transaction is in flight, go out as one entity group
 * transaction (up to 100). A case's audit rows, written a few at a time as its steps end, cost a round trip per
 * burst instead of one each. Each insert still resolves only once its row is stored; when a transaction of several
 * rows fails, each row is tried on its own, so one row's failure is never another's. A conflict is checked, not
 * believed: a write stored but whose answer was lost is retried by the Storage SDK and the retry answers 409, so a
 * row that conflicts is read back, and an insert resolves when the stored row is exactly its own.
 */
export class PartitionBatcher<T> {
  private readonly waiting = new Map<string, Pending<T>[]>();
  private readonly flushing = new Set<string>();

  constructor(private readonly table: RecordTable<T>) {}

  insert(partitionKey: string, rowKey: string, value: T, columns: Pending<T>['columns'] = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queue = this.waiting.get(partitionKey) ?? [];
      queue.push({ rowKey, value, columns, resolve, reject });
      this.waiting.set(partitionKey, queue);
      if (!this.flushing.has(partitionKey)) {
        this.flushing.add(partitionKey);
        void nextTurn().then(() => this.flush(partitionKey));
      }
    });
  }

  private async flush(partitionKey: string): Promise<void> {
    for (;;) {
      const queue = this.waiting.get(partitionKey) ?? [];
      if (queue.length === 0) {
        // In the same turn as the last check: a row queued after it starts a flush of its own.
        this.waiting.delete(partitionKey);
        this.flushing.delete(partitionKey);
        return;
      }
      const batch = queue.splice(0, TRANSACTION_MAX);
      try {
        await this.table.transact(partitionKey, batch.map((p) => ({ op: 'create' as const, rowKey: p.rowKey, value: p.value, columns: p.columns })));
        batch.forEach((p) => p.resolve());
      } catch (err) {
        // A single row has had its attempt; rows of a larger transaction are each tried alone.
        await Promise.all(batch.map((p) => this.settleAlone(partitionKey, p, batch.length === 1 ? err : undefined)));
      }
    }
  }

  /** A row on its own: inserted (checked), or, when its lone transaction already failed with `failure`, checked. */
  private async settleAlone(partitionKey: string, p: Pending<T>, failure: unknown): Promise<void> {
    try {
      if (failure === undefined) {
        await this.table.insertChecked(partitionKey, p.rowKey, p.value, p.columns);
      } else if (!isConflict(failure) || (await this.table.storedAs(partitionKey, p.rowKey, p.value)) === undefined) {
        p.reject(failure);
        return;
      }
      p.resolve();
    } catch (err) {
      p.reject(err);
    }
  }
}
