import { RecordTable } from './record-table';
import { isConflict, isNotFound, TABLES, type Storage } from './storage';

export interface KeyValue {
  value: string;
  at: string;
  /** Epoch ms after which the key may be reclaimed (blast-radius slots). */
  until?: number;
}

/**
 * Small keyed facts that must be claimed exactly once across workers: duplicate detection of alerts,
 * the open case of a target, blast-radius slots. Claims are conditional inserts.
 */
export class KeyStore {
  private constructor(private readonly table: RecordTable<KeyValue>) {}

  static async open(storage: Storage): Promise<KeyStore> {
    return new KeyStore(new RecordTable<KeyValue>(await storage.table(TABLES.keys)));
  }

  /**
   * Claims `key` for `value`; when someone holds it already, returns their value, when they claimed it, and
   * the etag to take it over with ({@link takeOver}).
   */
  async claim(partition: string, key: string, value: string, until?: number): Promise<{ claimed: boolean; value: string; at?: string; etag?: string }> {
    const record: KeyValue = { value, at: new Date().toISOString(), ...(until === undefined ? {} : { until }) };
    try {
      await this.table.insert(partition, rowKey(key), record);
      return { claimed: true, value };
    } catch (err) {
      if (!isConflict(err)) {
        throw err;
      }
    }
    const existing = await this.table.get(partition, rowKey(key));
    return existing ? { claimed: false, value: existing.value.value, at: existing.value.at, etag: existing.etag } : { claimed: false, value };
  }

  /** Replaces a claim only if nobody changed it since it was read; false when another worker got there first. */
  async takeOver(partition: string, key: string, value: string, etag: string | undefined): Promise<boolean> {
    try {
      await this.table.replace(partition, rowKey(key), { value, at: new Date().toISOString() }, etag ?? '*');
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) {
        return false;
      }
      throw err;
    }
  }

  async get(partition: string, key: string): Promise<string | undefined> {
    return (await this.table.get(partition, rowKey(key)))?.value.value;
  }

  async set(partition: string, key: string, value: string): Promise<void> {
    await this.table.upsert(partition, rowKey(key), { value, at: new Date().toISOString() });
  }

  async release(partition: string, key: string): Promise<void> {
    await this.table.delete(partition, rowKey(key));
  }

  /**
   * Takes one of `slots` numbered slots whose `until` has passed (or that was never taken), until `until`;
   * true at once when `value` already holds a live slot. A rolling-window counter that stays exact under
   * concurrent workers.
   */
  async takeSlot(partition: string, slots: number, value: string, now: number, until: number): Promise<boolean> {
    const rows = await this.table.partition(partition);
    // Idempotent per value: a re-run (redelivered message, two workers on one case) must not take a second slot.
    if (rows.some((r) => r.value.value === value && (r.value.until ?? 0) > now)) {
      return true;
    }
    const byKey = new Map(rows.map((r) => [r.rowKey, r]));
    // Start at a random slot: concurrent workers starting at slot 0 would all race for the same free slot.
    const start = Math.floor(Math.random() * slots);
    for (let n = 0; n < slots; n++) {
      const i = (start + n) % slots;
      const key = rowKey(String(i).padStart(6, '0'));
      const row = byKey.get(key);
      const record: KeyValue = { value, at: new Date(now).toISOString(), until };
      try {
        if (!row) {
          await this.table.insert(partition, key, record);
          return true;
        }
        if ((row.value.until ?? 0) <= now) {
          await this.table.replace(partition, key, record, row.etag);
          return true;
        }
      } catch (err) {
        if (!isConflict(err)) {
          throw err;
        }
      }
    }
    return false;
  }
}

/** Row keys cannot hold `/ \ # ?`; keys are ids, UPNs and ARM ids, so encode them. */
function rowKey(key: string): string {
  return encodeURIComponent(key.toLowerCase()).replace(/%/g, '~');
}
