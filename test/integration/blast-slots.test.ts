import type { TokenCredential } from '@azure/identity';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyStore, type KeyValue } from '../../shared/store/key-store';
import { RecordTable } from '../../shared/store/record-table';
import { createStorage, TABLES } from '../../shared/store/storage';
import { claimStorageAccount } from '../helpers/storage-account';

const noCredential: TokenCredential = { getToken: () => Promise.reject(new Error('no token in this test')) };
const HOUR = 3_600_000;

describe('blast-radius slots (Azurite)', () => {
  let keys: KeyStore;
  let rows: RecordTable<KeyValue>;
  let n = 0;
  /** A partition of its own per test: slots are counted per partition. */
  const partition = () => `blast-test-${++n}`;

  beforeAll(async () => {
    const storage = createStorage({ AzureWebJobsStorage: claimStorageAccount() }, noCredential);
    keys = await KeyStore.open(storage);
    rows = new RecordTable<KeyValue>(await storage.table(TABLES.keys));
  });

  it('gives exactly the limit to many workers taking slots at once, and one slot per value however often it asks', async () => {
    const p = partition();
    const now = Date.now();
    const values = Array.from({ length: 12 }, (_, i) => `case|target-${i}|0`);
    // Each value asks twice at once (a redelivered message racing the first run).
    const taken = await Promise.all([...values, ...values].map((v) => keys.takeSlot(p, 5, v, now, now + HOUR)));
    const admitted = new Set(values.filter((_, i) => taken[i] === true || taken[i + values.length] === true));
    expect(admitted.size).toBe(5);
    // Asking again changes nothing: the admitted keep their slot, the others are still refused.
    for (const v of values) {
      expect(await keys.takeSlot(p, 5, v, now, now + HOUR)).toBe(admitted.has(v));
    }
  });

  it('leaves each value one live slot when it races itself, with slots to spare and with slots scarce', async () => {
    for (const slots of [10_000, 30]) {
      const p = partition();
      const now = Date.now();
      const values = Array.from({ length: 25 }, (_, i) => `case-${slots}|target-${i}|0`);
      // Three takes of each value at once.
      const taken = await Promise.all([...values, ...values, ...values].map((v) => keys.takeSlot(p, slots, v, now, now + 3_600_000)));
      expect(taken.every((t) => t)).toBe(true);
      const live = (await rows.partition(p, 'slot-')).filter((r) => (r.value.until ?? 0) > now);
      const perValue = new Map<string, number>();
      live.forEach((r) => perValue.set(r.value.value, (perValue.get(r.value.value) ?? 0) + 1));
      expect([...perValue.values()].every((count) => count === 1)).toBe(true);
      expect(perValue.size).toBe(values.length);
    }
  });

  it('lets a value that gave its slot back take one again, and keeps one marker a value however often slots turn over', async () => {
    const p = partition();
    const now = Date.now();
    expect(await keys.takeSlot(p, 1, 'a', now, now + 1_000)).toBe(true);
    await keys.freeSlot(p, 'a', now);
    expect(await keys.takeSlot(p, 1, 'a', now, now + 1_000)).toBe(true);
    expect(await keys.takeSlot(p, 1, 'b', now, now + 3_600_000)).toBe(false);
    // a's hour passes: b takes its slot, and a's lapsed marker goes with it.
    expect(await keys.takeSlot(p, 1, 'b', now + 2_000, now + 3_600_000)).toBe(true);
    const all = await rows.partition(p);
    expect(all.map((r) => r.value.value).sort()).toEqual(['b', 'b']);
  });

  it('frees a slot for the next value, and reuses slots whose hour has passed', async () => {
    const p = partition();
    const now = Date.now();
    expect(await keys.takeSlot(p, 2, 'a', now, now + HOUR)).toBe(true);
    expect(await keys.takeSlot(p, 2, 'b', now, now + 1_000)).toBe(true);
    expect(await keys.takeSlot(p, 2, 'c', now, now + HOUR)).toBe(false);
    await keys.freeSlot(p, 'a', now);
    expect(await keys.takeSlot(p, 2, 'c', now, now + HOUR)).toBe(true);
    expect(await keys.takeSlot(p, 2, 'd', now, now + HOUR)).toBe(false);
    // An hour (here a second) later, b's slot is free again.
    expect(await keys.takeSlot(p, 2, 'd', now + 2_000, now + HOUR)).toBe(true);
  });

  it('under a limit of 100,000 an hour, admits every one of many concurrent values, and each again without a second slot', async () => {
    const p = partition();
    const now = Date.now();
    const values = Array.from({ length: 40 }, (_, i) => `v-${i}`);
    expect(await Promise.all(values.map((v) => keys.takeSlot(p, 100_000, v, now, now + HOUR)))).toEqual(values.map(() => true));
    // Asked again, each finds the slot it holds (none takes a second).
    expect(await Promise.all(values.map((v) => keys.takeSlot(p, 100_000, v, now, now + HOUR)))).toEqual(values.map(() => true));
  });
  it('takes from rows read ahead only what is still free: a read older than another take neither passes the limit nor takes twice', async () => {
    const p = partition();
    const now = Date.now();
    const stale = keys.readSlots(p);
    await stale;
    expect(await keys.takeSlot(p, 1, 'case-a|t|0', now, now + HOUR)).toBe(true);
    // The read says the partition is empty; another value took the one slot since: the take must see it.
    expect(await keys.takeSlot(p, 1, 'case-b|t|0', now, now + HOUR, stale)).toBe(false);
    // The same value with a read from before its own take: still one slot, and the limit still holds.
    expect(await keys.takeSlot(p, 2, 'case-a|t|0', now, now + HOUR, stale)).toBe(true);
    expect(await keys.takeSlot(p, 2, 'case-c|t|0', now, now + HOUR, stale)).toBe(true);
    expect(await keys.takeSlot(p, 2, 'case-d|t|0', now, now + HOUR, stale)).toBe(false);
    const live = (await rows.partition(p)).filter((r) => r.rowKey.startsWith('slot-') && (r.value.until ?? 0) > now);
    expect(live.map((r) => r.value.value).sort()).toEqual(['case-a|t|0', 'case-c|t|0']);
  });

  it('reads again when the read sent ahead failed: its failure is not the answer', async () => {
    const p = partition();
    const now = Date.now();
    expect(await keys.takeSlot(p, 1, 'case-a|t|0', now, now + HOUR, Promise.reject(new Error('socket hang up')))).toBe(true);
    expect(await keys.takeSlot(p, 1, 'case-b|t|0', now, now + HOUR, Promise.reject(new Error('socket hang up')))).toBe(false);
  });
  it('frees the slots of several values in one go, and only theirs', async () => {
    const p = partition();
    const now = Date.now();
    for (const v of ['a', 'b', 'c']) {
      expect(await keys.takeSlot(p, 3, `case|${v}|0`, now, now + HOUR)).toBe(true);
    }
    await keys.freeSlots(p, ['case|a|0', 'case|c|0', 'case|never-took|0'], now);
    expect(await keys.takeSlot(p, 3, 'case|d|0', now, now + HOUR)).toBe(true);
    expect(await keys.takeSlot(p, 3, 'case|e|0', now, now + HOUR)).toBe(true);
    expect(await keys.takeSlot(p, 3, 'case|f|0', now, now + HOUR)).toBe(false);
    // b kept its slot: asking again takes no second one.
    expect(await keys.takeSlot(p, 3, 'case|b|0', now, now + HOUR)).toBe(true);
  });
});
