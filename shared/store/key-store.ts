import { RecordTable, sameRecord, type RowOp, type Stored } from './record-table';
import { isConflict, isNotFound, TABLES, type Storage } from './storage';
import { keyOf } from './storage-key';

export interface KeyValue {
  value: string;
  at: string;
  /** Epoch ms after which the key may be reclaimed (blast-radius slots). */
  until?: number;
}

/**
 * Small keyed facts that must be claimed exactly once across workers (a sponsor warning per end date,
 * blast-radius slots). Claims are conditional inserts; row keys are hashes of the keys (`keyOf`).
 */
export class KeyStore {
  private constructor(private readonly table: RecordTable<KeyValue>) {}

  static async open(storage: Storage): Promise<KeyStore> {
    return new KeyStore(new RecordTable<KeyValue>(await storage.table(TABLES.keys)));
  }

  /** Claims `key` for `value`; when someone holds it already, returns their value and when they claimed it. */
  async claim(partition: string, key: string, value: string): Promise<{ claimed: boolean; value: string; at?: string }> {
    const record: KeyValue = { value, at: new Date().toISOString() };
    try {
      await this.table.insert(partition, keyOf(key), record);
      return { claimed: true, value };
    } catch (err) {
      if (!isConflict(err)) {
        throw err;
      }
    }
    const existing = await this.table.get(partition, keyOf(key));
    if (existing && sameRecord(existing.value, record)) {
      return { claimed: true, value }; // this claim, stored, its answer lost (the SDK's retry met it)
    }
    return existing ? { claimed: false, value: existing.value.value, at: existing.value.at } : { claimed: false, value };
  }

  async get(partition: string, key: string): Promise<string | undefined> {
    return (await this.table.get(partition, keyOf(key)))?.value.value;
  }

  async release(partition: string, key: string): Promise<void> {
    await this.table.delete(partition, keyOf(key));
  }

  /**
   * Takes one of `slots` numbered slots whose `until` has passed (or that was never taken), until `until`;
   * true at once when `value` already holds a live slot. A rolling-window counter that stays exact under
   * concurrent workers: the slot row and the value's marker row are written in one transaction, so two takes of
   * the same value at once (a redelivered message racing the first run) cannot both succeed, and two values cannot
   * take the same slot.
   */
  async takeSlot(partition: string, slots: number, value: string, now: number, until: number, readAhead?: Promise<Stored<KeyValue>[]>): Promise<boolean> {
    const marker = markerKey(value);
    // A read sent ahead is as good as one sent now: every write below is conditional, a stale read meets a conflict.
    for (let first = readAhead?.catch(() => this.table.partition(partition)); ; first = undefined) {
      const rows = await (first ?? this.table.partition(partition));
      const slotRows = rows.filter((r) => isSlotRow(r.rowKey));
      // Idempotent per value: a re-run (redelivered message, a second look at the same target) takes no second slot.
      if (slotRows.some((r) => r.value.value === value && (r.value.until ?? 0) > now)) {
        return true;
      }
      const byKey = new Map(rows.map((r) => [r.rowKey, r]));
      const live = new Set(slotRows.filter((r) => (r.value.until ?? 0) > now).map((r) => slotIndex(r.rowKey)).filter((i) => i < slots));
      if (live.size >= slots) {
        return false;
      }
      // A random free slot: concurrent workers taking the lowest free one would all race for the same slot. Found
      // by drawing while most slots are free (a limit of 100,000 an hour must not cost 100,000 steps a take), by
      // listing the free ones once most are live.
      const i = randomFreeSlot(slots, live);
      const row = byKey.get(slotKey(i));
      const record: KeyValue = { value, at: new Date(now).toISOString(), until };
      const mine = byKey.get(marker);
      const ops: RowOp<KeyValue>[] = [
        row ? { op: 'replace', rowKey: slotKey(i), value: record, etag: row.etag } : { op: 'create', rowKey: slotKey(i), value: record },
        mine ? { op: 'replace', rowKey: marker, value: record, etag: mine.etag } : { op: 'create', rowKey: marker, value: record },
      ];
      // The lapsed marker of the value whose lapsed slot this reuses goes with it: markers stay at most one a slot.
      const previous = row ? byKey.get(markerKey(row.value.value)) : undefined;
      if (previous && previous.rowKey !== marker && (previous.value.until ?? 0) <= now) {
        ops.push({ op: 'delete', rowKey: previous.rowKey });
      }
      try {
        await this.table.transact(partition, ops);
        return true;
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) {
          throw err;
        }
        // Another worker took that slot, or this value, between our read and our write: read again.
      }
    }
  }

  /** The rows of a slot partition, read ahead of a {@link takeSlot} that may follow. */
  readSlots(partition: string): Promise<Stored<KeyValue>[]> {
    return this.table.partition(partition);
  }

  /** Gives back the slot `value` holds (a target admitted early that did not act after all), with its marker. */
  freeSlot(partition: string, value: string, now: number): Promise<void> {
    return this.freeSlots(partition, [value], now);
  }

  /** Gives back the slots `values` hold, each with its marker, reading the partition once. */
  async freeSlots(partition: string, values: readonly string[], now: number): Promise<void> {
    const wanted = new Set(values);
    if (wanted.size === 0) {
      return;
    }
    const rows = await this.table.partition(partition);
    const byKey = new Map(rows.map((r) => [r.rowKey, r]));
    const held = rows.filter((r) => isSlotRow(r.rowKey) && wanted.has(r.value.value) && (r.value.until ?? 0) > now);
    await Promise.all(
      held.map(async (slot) => {
        const marker = byKey.get(markerKey(slot.value.value));
        const ops: RowOp<KeyValue>[] = [{ op: 'replace', rowKey: slot.rowKey, value: { ...slot.value, until: 0 }, etag: slot.etag }];
        if (marker) {
          ops.push({ op: 'replace', rowKey: marker.rowKey, value: { ...marker.value, until: 0 }, etag: marker.etag });
        }
        await this.table.transact(partition, ops).catch((err: unknown) => {
          if (!isConflict(err) && !isNotFound(err)) {
            throw err;
          }
        });
      }),
    );
  }
}

/** The row that says a value holds a slot: one per value, written with its slot. */
function markerKey(value: string): string {
  return `value-${keyOf(value)}`;
}

function slotKey(i: number): string {
  return `slot-${String(i).padStart(6, '0')}`;
}

/** A slot row, not a value's marker row. */
function isSlotRow(rowKey: string): boolean {
  return slotIndex(rowKey) !== Number.POSITIVE_INFINITY;
}

/** The number of a slot row (see slotKey); rows of any other shape count as no slot. */
function slotIndex(rowKey: string): number {
  const match = /^slot-(\d+)$/.exec(rowKey);
  return match ? Number(match[1]) : Number.POSITIVE_INFINITY;
}

/** A uniformly random slot number below `slots` that is not `live` (there is at least one). */
function randomFreeSlot(slots: number, live: ReadonlySet<number>): number {
  if (live.size < slots / 2) {
    for (;;) {
      const i = Math.floor(Math.random() * slots);
      if (!live.has(i)) {
        return i;
      }
    }
  }
  const free: number[] = [];
  for (let i = 0; i < slots; i++) {
    if (!live.has(i)) {
      free.push(i);
    }
  }
  return free[Math.floor(Math.random() * free.length)] ?? 0;
}
