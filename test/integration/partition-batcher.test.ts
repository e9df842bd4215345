import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startStorageProxy, type StorageProxy } from '../../dev/storage-proxy';
import { PartitionBatcher } from '../../shared/store/partition-batcher';
import { RecordTable } from '../../shared/store/record-table';
import { createStorage, TABLES } from '../../shared/store/storage';
import { claimStorageAccount } from '../helpers/storage-account';
import { loseFirstAnswer } from '../helpers/lose-answer';

const noCredential: TokenCredential = { getToken: () => Promise.reject(new Error('no token in this test')) };

describe('rows inserted through the partition batcher (Azurite, through the storage proxy)', () => {
  let proxy: StorageProxy;
  let table: RecordTable<{ n: number; text?: string }>;
  let rows: PartitionBatcher<{ n: number; text?: string }>;

  beforeAll(async () => {
    proxy = await startStorageProxy(inject('azurite'));
    const account = /AccountName=([^;]+)/.exec(claimStorageAccount())?.[1] ?? '';
    table = new RecordTable(await createStorage({ AzureWebJobsStorage: proxy.connectionString(account) }, noCredential).table(TABLES.audit));
    rows = new PartitionBatcher(table);
  });
  afterAll(async () => {
    await proxy.stop();
  });

  const batchesSince = (from: number): number => proxy.requests.slice(from).filter((q) => q.service === 'table' && q.method === 'POST' && q.shape === '/$batch').length;

  it('stores every row written together in one partition with one transaction per hundred rows, and other partitions apart', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const from = proxy.requests.length;
    await Promise.all([
      ...Array.from({ length: 150 }, (_, n) => rows.insert(a, `r${String(n).padStart(3, '0')}`, { n }, { kind: 'x' })),
      ...Array.from({ length: 3 }, (_, n) => rows.insert(b, `r${n}`, { n })),
    ]);
    expect((await table.partition(a)).map((r) => r.value.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 150 }, (_, n) => n));
    expect((await table.partition(b)).map((r) => r.value.n).sort()).toEqual([0, 1, 2]);
    // 150 rows of one partition: two transactions (100 + 50); three of another: one. No single inserts.
    expect(batchesSince(from)).toBe(3);
    expect(proxy.requests.slice(from).filter((q) => q.method === 'POST' && q.shape !== '/$batch' && q.service === 'table')).toHaveLength(0);
  });

  it('writes a row that arrives while its partition is being written in the next transaction, and loses none', async () => {
    const pk = randomUUID();
    const first = rows.insert(pk, 'first', { n: 1 });
    // Queued after the first transaction has left (the batcher waits one turn of the event loop before sending).
    await new Promise((resolve) => setImmediate(resolve));
    const second = Promise.all([rows.insert(pk, 'second', { n: 2 }), rows.insert(pk, 'third', { n: 3 })]);
    await Promise.all([first, second]);
    expect((await table.partition(pk)).map((r) => r.rowKey).sort()).toEqual(['first', 'second', 'third']);
  });

  it("fails only the row that cannot be stored: a transaction that fails is retried row by row, each with its own outcome", async () => {
    const pk = randomUUID();
    await table.insert(pk, 'taken', { n: 0 });
    const results = await Promise.allSettled([rows.insert(pk, 'fresh-1', { n: 1 }), rows.insert(pk, 'taken', { n: 99 }), rows.insert(pk, 'fresh-2', { n: 2 })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const stored = await table.partition(pk);
    expect(stored.map((r) => [r.rowKey, r.value.n]).sort()).toEqual([['fresh-1', 1], ['fresh-2', 2], ['taken', 0]]);
  });

  const tableWrite = (req: { service: string; write: boolean }): boolean => req.service === 'table' && req.write;
  const tableRead = (req: { service: string; write: boolean }): boolean => req.service === 'table' && !req.write;

  it('resolves every row of a transaction that was stored but whose answer was lost, and stores each once', async () => {
    const pk = randomUUID();
    const from = proxy.requests.length;
    proxy.setGate(loseFirstAnswer(tableWrite).gate);
    try {
      // The SDK sends the transaction again, which answers 409 (its own rows); each row alone answers 409 too.
      await Promise.all([rows.insert(pk, 'a', { n: 1 }), rows.insert(pk, 'b', { n: 2 }), rows.insert(pk, 'c', { n: 3 })]);
    } finally {
      proxy.setGate(undefined);
    }
    expect((await table.partition(pk)).map((r) => [r.rowKey, r.value.n])).toEqual([['a', 1], ['b', 2], ['c', 3]]);
    const sent = proxy.requests.slice(from).filter((q) => q.service === 'table');
    expect(sent.filter((q) => q.shape === '/$batch').map((q) => q.status)).toEqual([202, 202]);
    expect(sent.filter((q) => q.method === 'GET' && q.shape.startsWith('/audit(')).length).toBeGreaterThanOrEqual(3);
  });

  it('resolves a lone row stored but whose answer was lost', async () => {
    const pk = randomUUID();
    proxy.setGate(loseFirstAnswer(tableWrite).gate);
    try {
      await rows.insert(pk, 'alone', { n: 7, text: 'x' });
    } finally {
      proxy.setGate(undefined);
    }
    expect((await table.partition(pk)).map((r) => [r.rowKey, r.value])).toEqual([['alone', { n: 7, text: 'x' }]]);
  });

  it("never takes another writer's row for its own: a conflicting row holding anything else is refused, alone or in a transaction", async () => {
    const pk = randomUUID();
    await table.insert(pk, 'theirs', { n: 1, text: 'theirs' });
    await expect(rows.insert(pk, 'theirs', { n: 1, text: 'mine' })).rejects.toMatchObject({ statusCode: 409 });
    const results = await Promise.allSettled([rows.insert(pk, 'theirs', { n: 1 }), rows.insert(pk, 'other', { n: 2 })]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect((await table.get(pk, 'theirs'))?.value).toEqual({ n: 1, text: 'theirs' });
  });

  it('refuses a conflicting row it cannot read back: a failed read is not taken as stored', async () => {
    const pk = randomUUID();
    proxy.setGate(loseFirstAnswer(tableWrite, tableRead).gate);
    try {
      await expect(rows.insert(pk, 'unread', { n: 1 })).rejects.toThrow();
    } finally {
      proxy.setGate(undefined);
    }
    // It is stored (the lost answer's write), and a later write of the same row resolves once it can read it.
    await rows.insert(pk, 'unread', { n: 1 });
    expect((await table.partition(pk)).map((r) => r.rowKey)).toEqual(['unread']);
  }, 30_000);

  it("checks a replace's 412: its own stored write is its own, another writer's is a 412, an unreadable row is neither", async () => {
    const pk = randomUUID();
    const etag = await table.insert(pk, 'row', { n: 0 });
    const isReplace = (req: { service: string; method: string }): boolean => req.service === 'table' && req.method === 'PUT';
    // Stored, answer lost: the SDK's retry answers 412, and the row read back is this write.
    proxy.setGate(loseFirstAnswer(isReplace).gate);
    let mine: string;
    try {
      mine = await table.replaceChecked(pk, 'row', { n: 1 }, etag);
    } finally {
      proxy.setGate(undefined);
    }
    expect((await table.get(pk, 'row'))?.etag).toBe(mine);
    // Another writer's row under the stale etag: the 412 stands.
    await expect(table.replaceChecked(pk, 'row', { n: 2 }, etag)).rejects.toMatchObject({ statusCode: 412 });
    // Answer lost and the row unreadable: the read's failure is thrown, not a 412 and not a success.
    proxy.setGate(loseFirstAnswer(isReplace, tableRead).gate);
    try {
      const failure = await table.replaceChecked(pk, 'row', { n: 3 }, mine).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toMatchObject({ statusCode: 412 });
    } finally {
      proxy.setGate(undefined);
    }
  }, 30_000);

  it('rejects a row whose write never reaches storage, and stores it when written again', async () => {
    const pk = randomUUID();
    proxy.setGate((req) => Promise.resolve(req.service === 'table' && req.write ? 'drop' : 'forward'));
    try {
      await expect(rows.insert(pk, 'lost', { n: 1 })).rejects.toThrow();
    } finally {
      proxy.setGate(undefined);
    }
    expect(await table.partition(pk)).toEqual([]);
    await rows.insert(pk, 'lost', { n: 1 });
    expect((await table.partition(pk)).map((r) => r.rowKey)).toEqual(['lost']);
  });
});

describe('rows inserted one after another, each as soon as the previous is stored', () => {
  it('stores every row, however the inserts fall against the end of a transaction', async () => {
    const table = new RecordTable<{ n: number }>(await createStorage({ AzureWebJobsStorage: claimStorageAccount() }, noCredential).table(TABLES.audit));
    const rows = new PartitionBatcher(table);
    const pk = randomUUID();
    // An insert made right as the previous one resolves lands while the batcher is finishing its flush.
    for (let n = 0; n < 20; n++) {
      await rows.insert(pk, `r${String(n).padStart(2, '0')}`, { n });
    }
    expect(await table.partition(pk)).toHaveLength(20);
  });
});
