import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { startStorageProxy, type StorageProxy } from '../../dev/storage-proxy';
import { CaseBusyError, CaseLease, LeaseLostError } from '../../shared/plans/case-lease';
import { CaseSession } from '../../shared/plans/case-session';
import { CaseStore } from '../../shared/store/case-store';
import type { CaseRecord, TargetRecord } from '../../shared/store/case-model';
import { createStorage } from '../../shared/store/storage';
import { claimStorageAccount } from '../helpers/storage-account';
import { loseFirstAnswer } from '../helpers/lose-answer';

/** Connection strings need no token; anything asking for one is a bug in the test. */
const noCredential: TokenCredential = { getToken: () => Promise.reject(new Error('no token in this test')) };
const LEASE = 15_000;

describe('the case lease on Azure Tables (Azurite)', () => {
  let store: CaseStore;
  let caseId: string;
  let clock: number;
  const now = () => clock;

  const target = (i: number): TargetRecord => ({ key: `oid:${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`, ref: { by: 'objectId', objectId: `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000` }, plan: 'contain', round: 0, status: 'pending', receivedAt: new Date(clock).toISOString() });

  beforeAll(async () => {
    store = await CaseStore.open(createStorage({ AzureWebJobsStorage: claimStorageAccount() }, noCredential));
  });
  beforeEach(async () => {
    caseId = randomUUID();
    clock = Date.UTC(2026, 10, 20, 9, 0, 0);
    const at = new Date(clock).toISOString();
    const record: CaseRecord = { caseId, kind: 'containment', source: 'incident', createdAt: at, updatedAt: at, status: 'received', mode: 'enforce', title: 'test', severity: 'High', dedupeKey: `test:${caseId}`, requestedBy: 'playbook', rejected: [] };
    expect((await store.create(record, [target(1)])).created).toBe(true);
  });

  it('lets one worker at a time hold a case, and the next take it once it is given back', async () => {
    const first = await CaseLease.acquire(store, caseId, 'worker-1', LEASE, now);
    const busy = await CaseLease.acquire(store, caseId, 'worker-2', LEASE, now).catch((err: unknown) => err);
    expect(busy).toBeInstanceOf(CaseBusyError);
    expect((busy as CaseBusyError).retryAfterMs).toBe(LEASE);
    await first.release();
    const second = await CaseLease.acquire(store, caseId, 'worker-2', LEASE, now);
    expect(second.takenFrom).toBeDefined();
    await second.release();
  });

  it('fences a worker whose lease lapsed and was taken over: none of its writes land', async () => {
    const slow = await CaseLease.acquire(store, caseId, 'slow', LEASE, now);
    clock += LEASE + 1; // the slow worker stalls past its lease
    const fast = await CaseLease.acquire(store, caseId, 'fast', LEASE, now);
    const loaded = await store.load(caseId);
    const lostWrite = await new CaseSession(slow, loaded!, now).saveTarget({ ...target(1), status: 'contained' }).catch((err: unknown) => err);
    expect(lostWrite).toBeInstanceOf(LeaseLostError);
    // And every later write of the slow worker fails at once, without touching storage.
    await expect(slow.write([])).rejects.toBeInstanceOf(LeaseLostError);
    await new CaseSession(fast, loaded!, now).saveTarget({ ...target(1), status: 'failed' });
    expect((await store.load(caseId))?.targets[0]?.status).toBe('failed');
    await slow.release();
    await fast.release();
  });

  it('writes what many concurrent writers queued, in few transactions, and loses none queued while one ends', async () => {
    const lease = await CaseLease.acquire(store, caseId, 'w', LEASE, now);
    const session = new CaseSession(lease, (await store.load(caseId))!, now);
    // 250 targets written at once: more than one transaction holds.
    await Promise.all(Array.from({ length: 250 }, (_, i) => session.saveTarget(target(i))));
    // A write queued exactly as a flush finishes must still go out.
    const late = session.saveTarget(target(1000));
    await Promise.resolve();
    const later = session.saveTarget(target(1001));
    await Promise.all([late, later]);
    await session.settled();
    await lease.release();
    const loaded = await store.load(caseId);
    expect(loaded?.targets).toHaveLength(252);
  });

  it("tells a load made beside the lease from one that missed the last run's writes", async () => {
    const stale = await store.load(caseId);
    const one = await CaseLease.acquire(store, caseId, 'one', LEASE, now);
    await new CaseSession(one, (await store.load(caseId))!, now).saveTarget({ ...target(1), status: 'contained' });
    await one.release();
    const two = await CaseLease.acquire(store, caseId, 'two', LEASE, now);
    expect(two.isCurrent(stale!)).toBe(false);
    expect(two.isCurrent((await store.load(caseId))!)).toBe(true);
    await two.release();
  });

  it('records a case with a thousand targets: the case row with the first 99 in one transaction (the claim), then the rest', async () => {
    const big = randomUUID();
    const at = new Date(clock).toISOString();
    const record: CaseRecord = { caseId: big, kind: 'containment', source: 'incident', createdAt: at, updatedAt: at, status: 'received', mode: 'enforce', title: 'many', severity: 'High', dedupeKey: `test:${big}`, requestedBy: 'playbook', rejected: [] };
    const targets = Array.from({ length: 1000 }, (_, i) => target(i));
    expect((await store.create(record, targets)).created).toBe(true);
    // Another post of the same incident (its own post id) finds the claim and writes nothing.
    expect((await store.create({ ...record, post: 'another-post' }, targets.map((t) => ({ ...t, post: 'another-post' })))).created).toBe(false);
    const stored = await store.load(big);
    expect(stored?.targets).toHaveLength(1000);
    expect(stored?.targets.every((t) => t.post === undefined)).toBe(true);
  });
});

describe('deferred case writes (Azurite, through the storage proxy)', () => {
  let proxy: StorageProxy;
  let store: CaseStore;
  let caseId: string;
  const clock = Date.UTC(2026, 10, 20, 9, 0, 0);
  const now = () => clock;

  beforeAll(async () => {
    proxy = await startStorageProxy(inject('azurite'));
    const account = /AccountName=([^;]+)/.exec(claimStorageAccount())?.[1] ?? '';
    store = await CaseStore.open(createStorage({ AzureWebJobsStorage: proxy.connectionString(account) }, noCredential));
  });
  afterAll(async () => {
    await proxy.stop();
  });
  beforeEach(async () => {
    caseId = randomUUID();
    const at = new Date(clock).toISOString();
    const record: CaseRecord = { caseId, kind: 'containment', source: 'incident', createdAt: at, updatedAt: at, status: 'received', mode: 'enforce', title: 'test', severity: 'High', dedupeKey: `test:${caseId}`, requestedBy: 'playbook', rejected: [] };
    expect((await store.create(record, [])).created).toBe(true);
  });
  const transactionsSince = (from: number): number => proxy.requests.slice(from).filter((q) => q.service === 'table' && q.method === 'POST' && q.shape === '/$batch').length;

  it('sends a deferred write with the next write, in one transaction', async () => {
    const lease = await CaseLease.acquire(store, caseId, 'worker', LEASE, now);
    const session = new CaseSession(lease, (await store.load(caseId))!, now);
    const from = proxy.requests.length;
    const running = session.saveRecord((r) => (r.status = 'running'), { deferred: true });
    // Nothing goes out for it alone.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(transactionsSince(from)).toBe(0);
    await session.saveStep({ stepId: 's1', targetKey: 'k', action: 'disable', round: 0, description: 'd', state: 'done', attempts: 1, requestIds: [] });
    await running;
    expect(transactionsSince(from)).toBe(1);
    const loaded = await store.load(caseId);
    expect(loaded?.record.status).toBe('running');
    expect(loaded?.steps.map((s) => s.stepId)).toEqual(['s1']);
    await lease.release();
  });

  it('stores the last deferred writes with the lease given back, in one transaction, and the next run finds them', async () => {
    const lease = await CaseLease.acquire(store, caseId, 'worker', LEASE, now);
    const session = new CaseSession(lease, (await store.load(caseId))!, now);
    const from = proxy.requests.length;
    const done = session.saveRecord((r) => (r.status = 'done'), { deferred: true });
    await session.settled(); // a deferred write is not awaited by settled(): it waits for the release
    expect(transactionsSince(from)).toBe(0);
    await lease.release();
    await done;
    expect(transactionsSince(from)).toBe(1);
    expect((await store.load(caseId))?.record.status).toBe('done');
    const next = await CaseLease.acquire(store, caseId, 'next-worker', LEASE, now);
    expect(next.takenFrom).toBeDefined();
    await next.release();
  });

  it('stores more deferred rows than one transaction holds at the release: the last chunk frees the lease', async () => {
    const lease = await CaseLease.acquire(store, caseId, 'worker', LEASE, now);
    const session = new CaseSession(lease, (await store.load(caseId))!, now);
    const from = proxy.requests.length;
    const key = (i: number): string => `oid:${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`;
    const writes = Array.from({ length: 150 }, (_, i) =>
      session.saveTarget({ key: key(i), ref: { by: 'objectId', objectId: key(i).slice(4) }, plan: 'contain', round: 0, status: 'pending', receivedAt: new Date(clock).toISOString() }, { deferred: true }),
    );
    await lease.release();
    await Promise.all(writes);
    expect(transactionsSince(from)).toBe(2);
    expect((await store.load(caseId))?.targets).toHaveLength(150);
    const next = await CaseLease.acquire(store, caseId, 'next-worker', LEASE, now);
    await next.release();
  });

  it('loses a deferred write with the lease: a worker whose lease was taken over stores nothing at its release', async () => {
    let t = clock;
    const later = () => t;
    const slow = await CaseLease.acquire(store, caseId, 'slow', LEASE, later);
    const session = new CaseSession(slow, (await store.load(caseId))!, later);
    const write = session.saveRecord((r) => (r.status = 'failed'), { deferred: true });
    t += LEASE + 1;
    const fast = await CaseLease.acquire(store, caseId, 'fast', LEASE, later);
    await slow.release(); // the taken-over lease is not an error of the release: the new holder writes the case
    await expect(write).rejects.toBeInstanceOf(LeaseLostError);
    expect((await store.load(caseId))?.record.status).toBe('received');
    await fast.release();
  });

  const isTransaction = (req: { service: string; method: string; shape: string }): boolean => req.service === 'table' && req.method === 'POST' && req.shape === '/$batch';
  const isTableRead = (req: { service: string; write: boolean }): boolean => req.service === 'table' && !req.write;

  it("takes a write that was stored but whose answer was lost for its own, not for a takeover, and keeps the lease", async () => {
    const lease = await CaseLease.acquire(store, caseId, 'worker', LEASE, now);
    const session = new CaseSession(lease, (await store.load(caseId))!, now);
    const { gate, lost } = loseFirstAnswer(isTransaction);
    proxy.setGate(gate);
    try {
      // Stored, answer lost; the SDK's retry answers 412 (the lease row moved: by this very write).
      await session.saveRecord((r) => (r.status = 'running'));
    } finally {
      proxy.setGate(undefined);
    }
    expect(lost()).toBe(1);
    // The lease goes on: the next write (conditional on the etag read back) and the release land.
    await session.saveRecord((r) => (r.status = 'done'), { deferred: true });
    await lease.release();
    expect((await store.load(caseId))?.record.status).toBe('done');
    expect((await store.getLease(caseId))?.value.owner).toBeUndefined();
  });

  it('gives the lease back when the release was stored but its answer was lost, with its deferred writes', async () => {
    const lease = await CaseLease.acquire(store, caseId, 'worker', LEASE, now);
    const session = new CaseSession(lease, (await store.load(caseId))!, now);
    const write = session.saveRecord((r) => (r.status = 'done'), { deferred: true });
    const { gate, lost } = loseFirstAnswer(isTransaction);
    proxy.setGate(gate);
    try {
      await lease.release();
    } finally {
      proxy.setGate(undefined);
    }
    expect(lost()).toBe(1);
    await write;
    expect((await store.load(caseId))?.record.status).toBe('done');
    const next = await CaseLease.acquire(store, caseId, 'next-worker', LEASE, now);
    expect(next.takenFrom).toBeDefined();
    await next.release();
  });

  it('fails a write whose answer was lost and that it cannot read back, as a storage failure, not a takeover', async () => {
    const lease = await CaseLease.acquire(store, caseId, 'worker', LEASE, now);
    const session = new CaseSession(lease, (await store.load(caseId))!, now);
    proxy.setGate(loseFirstAnswer(isTransaction, isTableRead).gate);
    let failure: unknown;
    try {
      failure = await session.saveRecord((r) => (r.status = 'running')).catch((err: unknown) => err);
    } finally {
      proxy.setGate(undefined);
    }
    // Thrown as it is, so the run is retried; a LeaseLostError would end the run as if another worker held the case.
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(LeaseLostError);
    await lease.release();
  }, 30_000);

  it('throws from the release when its transaction fails for another reason, and the deferred write with it', async () => {
    const lease = await CaseLease.acquire(store, caseId, 'worker', LEASE, now);
    const session = new CaseSession(lease, (await store.load(caseId))!, now);
    const write = session.saveRecord((r) => (r.status = 'done'), { deferred: true });
    proxy.setGate((req) => Promise.resolve(req.service === 'table' && req.write ? 'drop' : 'forward'));
    try {
      await expect(lease.release()).rejects.toThrow();
    } finally {
      proxy.setGate(undefined);
    }
    await expect(write).rejects.toThrow();
    expect((await store.load(caseId))?.record.status).toBe('received');
  });
});
