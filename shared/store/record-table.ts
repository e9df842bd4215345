import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { isConflict, isNotFound } from './storage';

/** Queryable columns stored beside the JSON document (Table storage filters only top-level properties). */
export type Columns = Record<string, string | number | boolean | undefined>;

/** Entity group transactions take at most 100 operations. */
export const TRANSACTION_MAX = 100;

/** One operation of a {@link RecordTable.transact} call. */
export type RowOp<T> =
  | { op: 'create' | 'upsert'; rowKey: string; value: T; columns?: Columns }
  | { op: 'replace'; rowKey: string; value: T; etag: string | undefined; columns?: Columns }
  | { op: 'delete'; rowKey: string };

export interface Stored<T> {
  partitionKey: string;
  rowKey: string;
  value: T;
  etag: string;
}

interface Row extends Record<string, unknown> {
  partitionKey: string;
  rowKey: string;
  json: string;
  etag?: string;
}

/**
 * A typed view of one table where each row holds its record as a JSON document plus a few columns for
 * queries. Writes take an etag where a lost update would matter (leases, approvals, case status).
 */
export class RecordTable<T> {
  constructor(private readonly client: TableClient) {}

  async get(partitionKey: string, rowKey: string): Promise<Stored<T> | undefined> {
    try {
      const row = await this.client.getEntity<Row>(partitionKey, rowKey);
      return this.fromRow(row);
    } catch (err) {
      if (isNotFound(err)) {
        return undefined;
      }
      throw err;
    }
  }

  /** Inserts; throws a 409 RestError (see `isConflict`) when the row exists. */
  async insert(partitionKey: string, rowKey: string, value: T, columns: Columns = {}): Promise<string> {
    const res = await this.client.createEntity(this.toRow(partitionKey, rowKey, value, columns));
    return res.etag ?? '';
  }

  /**
   * The row under these keys when it holds exactly `value` (see {@link sameRecord}), else undefined. After a
   * conditional write answered 409 or 412 it tells the caller's own write from another writer's: when the answer to
   * a stored write is lost, the Storage SDK sends it again and the retry meets the row its first attempt stored.
   */
  async storedAs(partitionKey: string, rowKey: string, value: T): Promise<Stored<T> | undefined> {
    const row = await this.get(partitionKey, rowKey);
    return row && sameRecord(row.value, value) ? row : undefined;
  }

  /**
   * {@link insert}, with its 409 checked, not believed: when the row holds exactly `value`, this insert was stored and
   * only its answer lost (see {@link storedAs}), so it resolves with the row's etag. Another writer's row still throws
   * the 409; a failed read-back throws its own error (never taken for either answer).
   */
  async insertChecked(partitionKey: string, rowKey: string, value: T, columns: Columns = {}): Promise<string> {
    try {
      return await this.insert(partitionKey, rowKey, value, columns);
    } catch (err) {
      return this.ownAfterConflict(err, partitionKey, rowKey, value);
    }
  }

  /** {@link replace}, with its 412 checked as {@link insertChecked} checks a 409. */
  async replaceChecked(partitionKey: string, rowKey: string, value: T, etag: string | undefined, columns: Columns = {}): Promise<string> {
    try {
      return await this.replace(partitionKey, rowKey, value, etag, columns);
    } catch (err) {
      return this.ownAfterConflict(err, partitionKey, rowKey, value);
    }
  }

  private async ownAfterConflict(err: unknown, partitionKey: string, rowKey: string, value: T): Promise<string> {
    const own = isConflict(err) ? await this.storedAs(partitionKey, rowKey, value) : undefined;
    if (!own) {
      throw err;
    }
    return own.etag;
  }

  /** Replaces; with `etag`, only if nobody changed the row since it was read (412 otherwise). */
  async replace(partitionKey: string, rowKey: string, value: T, etag: string | undefined, columns: Columns = {}): Promise<string> {
    const res = await this.client.updateEntity(this.toRow(partitionKey, rowKey, value, columns), 'Replace', { etag: etag ?? '*' });
    return res.etag ?? '';
  }

  async upsert(partitionKey: string, rowKey: string, value: T, columns: Columns = {}): Promise<void> {
    await this.client.upsertEntity(this.toRow(partitionKey, rowKey, value, columns), 'Replace');
  }

  async delete(partitionKey: string, rowKey: string): Promise<void> {
    try {
      await this.client.deleteEntity(partitionKey, rowKey);
    } catch (err) {
      if (!isNotFound(err)) {
        throw err;
      }
    }
  }

  /** Every row of one partition, optionally only those whose row key starts with `prefix`. */
  async partition(partitionKey: string, prefix?: string): Promise<Stored<T>[]> {
    const filter = prefix
      ? odata`PartitionKey eq ${partitionKey} and RowKey ge ${prefix} and RowKey lt ${prefix + '\uffff'}`
      : odata`PartitionKey eq ${partitionKey}`;
    return this.query(filter);
  }

  async query(filter: string, maxRows = Number.POSITIVE_INFINITY): Promise<Stored<T>[]> {
    const out: Stored<T>[] = [];
    for await (const row of this.client.listEntities<Row>({ queryOptions: { filter } })) {
      out.push(this.fromRow(row));
      if (out.length >= maxRows) {
        break;
      }
    }
    return out;
  }

  /**
   * Writes up to {@link TRANSACTION_MAX} rows of one partition atomically (an entity group transaction): all or
   * nothing. Conditions (`create` fails on an existing row, `replace` with an etag fails when it moved) apply to
   * the whole transaction, which throws the failing operation's 409/412 (see `isConflict`). Returns the etag
   * of each row written, by row key.
   */
  async transact(partitionKey: string, ops: readonly RowOp<T>[]): Promise<Map<string, string>> {
    if (ops.length === 0) {
      return new Map();
    }
    if (ops.length > TRANSACTION_MAX) {
      throw new Error(`a transaction holds at most ${TRANSACTION_MAX} operations (${ops.length} given)`);
    }
    const actions: TransactionAction[] = ops.map((op) => {
      if (op.op === 'delete') {
        return ['delete', { partitionKey, rowKey: op.rowKey }];
      }
      const row = this.toRow(partitionKey, op.rowKey, op.value, op.columns ?? {});
      if (op.op === 'create') {
        return ['create', row];
      }
      if (op.op === 'replace') {
        return ['update', row, 'Replace', { etag: op.etag ?? '*' }];
      }
      return ['upsert', row, 'Replace'];
    });
    const res = await this.client.submitTransaction(actions);
    const etags = new Map<string, string>();
    res.subResponses.forEach((r, i) => {
      const op = ops[i];
      if (op && r.etag) {
        etags.set(op.rowKey, r.etag);
      }
    });
    return etags;
  }

  /** Deletes rows, grouped by partition into transactions of at most 100 (retention). */
  async deleteRows(rows: readonly Pick<Stored<T>, 'partitionKey' | 'rowKey'>[]): Promise<number> {
    const byPartition = new Map<string, string[]>();
    for (const r of rows) {
      byPartition.set(r.partitionKey, [...(byPartition.get(r.partitionKey) ?? []), r.rowKey]);
    }
    for (const [partitionKey, keys] of byPartition) {
      for (let i = 0; i < keys.length; i += TRANSACTION_MAX) {
        await this.transact(partitionKey, keys.slice(i, i + TRANSACTION_MAX).map((rowKey) => ({ op: 'delete' as const, rowKey })));
      }
    }
    return rows.length;
  }

  private toRow(partitionKey: string, rowKey: string, value: T, columns: Columns): Row {
    const row: Row = { partitionKey, rowKey, json: storableJson(value) };
    for (const [k, v] of Object.entries(columns)) {
      if (v !== undefined) {
        row[k] = v;
      }
    }
    return row;
  }

  private fromRow(row: Row): Stored<T> {
    return { partitionKey: row.partitionKey, rowKey: row.rowKey, value: JSON.parse(row.json) as T, etag: row.etag ?? '' };
  }
}

/**
 * Whether two records are the same: the same JSON text, keys in the same order (a record read back parses to what
 * was written). Records carry their own time, owner or nonce, so another writer's row never holds the same.
 */
export function sameRecord(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * JSON text of a record, with U+2028 and U+2029 escaped (`JSON.parse` reads them back unchanged). `JSON.stringify`
 * leaves them raw, and a raw line or paragraph separator in an entity group transaction makes the Table
 * service emulator (Azurite) fail the whole batch with a 500, on every retry: a title or name from an alert
 * must never be able to do that.
 */
function storableJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
}
