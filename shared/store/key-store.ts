import { RecordTable } from './record-table';
import { isConflict, TABLES, type Storage } from './storage';
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
   * concurrent workers.
   */
  async takeSlot(partition: string, slots: number, value: string, now: number, until: number): Promise<boolean> {
    for (;;) {
      const rows = await this.table.partition(partition);
      // Idempotent per value: a re-run (redelivered message, a second look at the same target) takes no second slot.
      if (rows.some((r) => r.value.value === value && (r.value.until ?? 0) > now)) {
        return true;
      }
      const byKey = new Map(rows.map((r) => [r.rowKey, r]));
      const live = new Set(rows.filter((r) => (r.value.until ?? 0) > now).map((r) => slotIndex(r.rowKey)).filter((i) => i < slots));
      if (live.size >= slots) {
        return false;
      }
      // The value's own slot (from its hash) when free: two takes of the same value at once (a redelivered message
      // racing the first run) then write the same row, one of them fails and finds the value's slot on its next
      // read. Otherwise a random free slot: concurrent workers taking the lowest free one would all race for the
      // same slot. Found by drawing while most slots are free (a limit of 100,000 an hour must not cost 100,000
      // steps a take), by listing the free ones once most are live.
      const own = ownSlot(value, slots);
      const i = live.has(own) ? randomFreeSlot(slots, live) : own;
      const row = byKey.get(slotKey(i));
      const record: KeyValue = { value, at: new Date(now).toISOString(), until };
      try {
        if (row) {
          await this.table.replace(partition, slotKey(i), record, row.etag);
        } else {
          await this.table.insert(partition, slotKey(i), record);
        }
        if (i !== own) {
          await this.keepOneSlot(partition, value, slotKey(i), now);
        }
        return true;
      } catch (err) {
        if (!isConflict(err)) {
          throw err;
        }
        // Another worker took that slot between our read and our write: read again.
      }
    }
  }

  /**
   * Two takes of the same value at once whose own slot was taken by another value both draw a random slot and may
   * take one each. After its write, each looks again and gives its slot back when the value holds a lower-numbered
   * one: the later of two writes always sees the earlier, so the value ends with one slot, whatever the interleaving.
   * (Only then: while the value's own slot is free, the race is settled by the slot row itself, with no read more.)
   */
  private async keepOneSlot(partition: string, value: string, mine: string, now: number): Promise<void> {
    const rows = await this.table.partition(partition);
    const lower = rows.some((r) => r.rowKey < mine && r.value.value === value && (r.value.until ?? 0) > now && slotIndex(r.rowKey) !== Number.POSITIVE_INFINITY);
    const own = rows.find((r) => r.rowKey === mine && r.value.value === value);
    if (lower && own) {
      await this.table.replace(partition, mine, { ...own.value, until: 0 }, own.etag).catch((err: unknown) => {
        if (!isConflict(err)) {
          throw err;
        }
      });
    }
  }

  /** Gives back the slot `value` holds (a target admitted early that did not act after all). */
  async freeSlot(partition: string, value: string, now: number): Promise<void> {
    const rows = await this.table.partition(partition);
    const held = rows.find((r) => r.value.value === value && (r.value.until ?? 0) > now);
    if (held) {
      await this.table.replace(partition, held.rowKey, { ...held.value, until: 0 }, held.etag).catch((err: unknown) => {
        if (!isConflict(err)) {
          throw err;
        }
      });
    }
  }
}

function slotKey(i: number): string {
  return `slot-${String(i).padStart(6, '0')}`;
}

/** The number of a slot row (see slotKey); rows of any other shape count as no slot. */
function slotIndex(rowKey: string): number {
  const match = /^slot-(\d+)$/.exec(rowKey);
  return match ? Number(match[1]) : Number.POSITIVE_INFINITY;
}

/** The slot a value tries first: its hash, modulo the number of slots. */
function ownSlot(value: string, slots: number): number {
  return Number.parseInt(keyOf(value).slice(0, 12), 16) % slots;
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
