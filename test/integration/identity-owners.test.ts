import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { odata } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStorageProxy, type StorageProxy } from '../../dev/storage-proxy';
import { releaseOwnership, takeOwnership } from '../../shared/plans/ownership';
import { IdentityOwners, type OwnerRecord } from '../../shared/store/identity-owners';
import { RecordTable } from '../../shared/store/record-table';
import { createStorage, QUEUES, TABLES, type Storage } from '../../shared/store/storage';
import { claimStorageAccount } from '../helpers/storage-account';
import { loseFirstAnswer } from '../helpers/lose-answer';

const noCredential: TokenCredential = { getToken: () => Promise.reject(new Error('no token in this test')) };

describe('ownership keyed by identity (Azurite)', () => {
  let storage: Storage;
  let owners: IdentityOwners;
  const deps = () => ({ owners, storage, now: Date.now });
  const acting = { state: 'acting' as const, verified: true, onConflict: 'wait' as const, overridesContained: 'never' as const };

  /** The case ids queued on the containment queue since the last call. */
  async function queued(): Promise<string[]> {
    const queue = await storage.queue(QUEUES.containment);
    const ids: string[] = [];
    for (;;) {
      const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
      if (receivedMessageItems.length === 0) {
        return ids.sort();
      }
      for (const m of receivedMessageItems) {
        ids.push((JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { caseId: string }).caseId);
        await queue.deleteMessage(m.messageId, m.popReceipt);
      }
    }
  }

  beforeAll(async () => {
    storage = createStorage({ AzureWebJobsStorage: claimStorageAccount() }, noCredential);
    owners = await IdentityOwners.open(storage);
    await queued();
  });

  it('lets one case own an identity; the next waits and is queued again when the owner is done', async () => {
    const identity = IdentityOwners.identityOf(randomUUID());
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    expect(await takeOwnership(deps(), identity, a, acting)).toEqual({ result: 'owned' });
    expect(await takeOwnership(deps(), identity, a, acting)).toEqual({ result: 'owned' });
    expect(await takeOwnership(deps(), identity, b, acting)).toEqual({ result: 'wait', ownerCaseId: a });
    expect(await takeOwnership(deps(), identity, c, acting)).toEqual({ result: 'wait', ownerCaseId: a });
    await releaseOwnership(deps(), identity, a, 'contained');
    expect(await queued()).toEqual([b, c].sort());
    const record = (await owners.get(identity))?.value;
    expect(record?.caseId).toBeUndefined();
    expect(record?.last).toMatchObject({ caseId: a, outcome: 'contained' });
    // Released: the next case owns it.
    expect(await takeOwnership(deps(), identity, c, acting)).toEqual({ result: 'owned' });
  });

  it('never misses a wake-up when many cases claim and the owner releases at the same moment', async () => {
    const identity = IdentityOwners.identityOf(randomUUID());
    const owner = randomUUID();
    await takeOwnership(deps(), identity, owner, acting);
    const others = Array.from({ length: 12 }, () => randomUUID());
    const [results] = await Promise.all([Promise.all(others.map((id) => takeOwnership(deps(), identity, id, acting))), releaseOwnership(deps(), identity, owner, 'failed')]);
    const owned = others.filter((_, i) => results[i]?.result === 'owned');
    const waiting = others.filter((_, i) => results[i]?.result === 'wait');
    // Exactly one may own it after the release; everyone else waits on whoever owned it when they registered,
    // and each of them is queued by an owner's release.
    expect(owned.length).toBeLessThanOrEqual(1);
    expect(owned.length + waiting.length).toBe(others.length);
    const woken = new Set(await queued());
    const current = (await owners.get(identity))?.value;
    for (const w of waiting) {
      expect(woken.has(w) || current?.waiters.includes(w)).toBe(true);
    }
  });

  it('lets a case Sentinel backs take over a held request nobody backs, and queues the held one', async () => {
    const identity = IdentityOwners.identityOf(randomUUID());
    const [direct, incident] = [randomUUID(), randomUUID()];
    expect(await takeOwnership(deps(), identity, direct, { state: 'held', verified: false, onConflict: 'wait', overridesContained: 'never' })).toEqual({ result: 'owned' });
    expect(await takeOwnership(deps(), identity, incident, acting)).toEqual({ result: 'owned' });
    expect(await queued()).toEqual([direct]);
    expect((await owners.get(identity))?.value).toMatchObject({ caseId: incident, state: 'acting', waiters: [direct] });
  });

  it('does not let a verified hold be taken over, nor a release run while another case acts', async () => {
    const identity = IdentityOwners.identityOf(randomUUID());
    const [held, incident, release] = [randomUUID(), randomUUID(), randomUUID()];
    await takeOwnership(deps(), identity, held, { state: 'held', verified: true, onConflict: 'wait', overridesContained: 'never' });
    expect(await takeOwnership(deps(), identity, incident, acting)).toEqual({ result: 'wait', ownerCaseId: held });
    expect(await takeOwnership(deps(), identity, release, { state: 'acting', verified: true, onConflict: 'refuse', overridesContained: 'never' })).toEqual({ result: 'refused', ownerCaseId: held });
    await queued();
  });

  it('releases only what the case owns', async () => {
    const identity = IdentityOwners.identityOf(randomUUID());
    const [a, b] = [randomUUID(), randomUUID()];
    await takeOwnership(deps(), identity, a, acting);
    await releaseOwnership(deps(), identity, b, 'failed');
    expect((await owners.get(identity))?.value.caseId).toBe(a);
  });
});

describe('claims of identities already stored (Azurite, through the storage proxy)', () => {
  let proxy: StorageProxy;
  let owners: IdentityOwners;
  let rows: RecordTable<OwnerRecord>;
  let storage: Storage;

  beforeAll(async () => {
    proxy = await startStorageProxy(inject('azurite'));
    const account = /AccountName=([^;]+)/.exec(claimStorageAccount())?.[1] ?? '';
    storage = createStorage({ AzureWebJobsStorage: proxy.connectionString(account) }, noCredential);
    owners = await IdentityOwners.open(storage);
    rows = new RecordTable(await storage.table(TABLES.owners));
  });
  afterAll(async () => {
    await proxy.stop();
  });

  const ownerRequests = (from: number): string[] => proxy.requests.slice(from).filter((q) => q.service === 'table').map((q) => `${q.method} ${q.shape.replace(/\(.*\)/, '(…)')}`);

  it('reads first when the identity is known to be stored: a case joining another sends one read, no insert that fails', async () => {
    const identity = IdentityOwners.identityOf(randomUUID());
    const [a, b] = [randomUUID(), randomUUID()];
    let from = proxy.requests.length;
    expect(await owners.claim(identity, a, 'acting', true, new Date().toISOString())).toMatchObject({ owned: true, fresh: true });
    expect(ownerRequests(from)).toEqual(['POST /owners']);
    from = proxy.requests.length;
    expect(await owners.claim(identity, b, 'acting', true, new Date().toISOString())).toMatchObject({ owned: false, record: { caseId: a } });
    expect(ownerRequests(from)).toEqual(['GET /owners(…)']);
  });

  it('still owns an identity whose row was deleted behind it (the hint is only a hint)', async () => {
    const objectId = randomUUID();
    const identity = IdentityOwners.identityOf(objectId);
    const [a, b] = [randomUUID(), randomUUID()];
    await owners.claim(identity, a, 'acting', true, new Date().toISOString());
    // Retention deletes the row through another instance.
    const [stored] = await rows.query(odata`caseId eq ${a}`);
    expect(stored?.value.identity).toBe(identity);
    await rows.delete(stored?.partitionKey ?? '', stored?.rowKey ?? '');
    const from = proxy.requests.length;
    expect(await owners.claim(identity, b, 'acting', true, new Date().toISOString())).toMatchObject({ owned: true, fresh: true, record: { caseId: b } });
    expect(ownerRequests(from)).toEqual(['GET /owners(…)', 'POST /owners']);
    expect((await owners.get(identity))?.value.caseId).toBe(b);
  });

  it('fails the claim when the read of a known identity fails: never "not owned", never "owned"', async () => {
    const identity = IdentityOwners.identityOf(randomUUID());
    const [a, b] = [randomUUID(), randomUUID()];
    await owners.claim(identity, a, 'acting', true, new Date().toISOString());
    proxy.setGate((req) => Promise.resolve(req.service === 'table' && req.method === 'GET' ? 'drop' : 'forward'));
    try {
      await expect(owners.claim(identity, b, 'acting', true, new Date().toISOString())).rejects.toThrow();
    } finally {
      proxy.setGate(undefined);
    }
    // Nothing was written in its name, and once storage answers the claim says who owns the identity.
    expect((await owners.get(identity))?.value.caseId).toBe(a);
    expect(await owners.claim(identity, b, 'acting', true, new Date().toISOString())).toMatchObject({ owned: false, record: { caseId: a } });
  });

  it('wakes the cases that waited when the release or the containment was stored but its answer was lost', async () => {
    const acting = { state: 'acting' as const, verified: true, onConflict: 'wait' as const, overridesContained: 'never' as const };
    const deps = { owners, storage, now: Date.now };
    for (const end of ['release', 'markContained'] as const) {
      const identity = IdentityOwners.identityOf(randomUUID());
      const [a, b] = [randomUUID(), randomUUID()];
      expect(await takeOwnership(deps, identity, a, acting)).toEqual({ result: 'owned' });
      expect(await takeOwnership(deps, identity, b, acting)).toEqual({ result: 'wait', ownerCaseId: a });
      const { gate, lost } = loseFirstAnswer((req) => req.service === 'table' && req.method === 'PUT');
      proxy.setGate(gate);
      let woken: string[];
      try {
        woken = end === 'release' ? await owners.release(identity, a, 'failed', new Date().toISOString()) : await owners.markContained(identity, a, new Date().toISOString());
      } finally {
        proxy.setGate(undefined);
      }
      expect(lost(), end).toBe(1);
      expect(woken, end).toEqual([b]);
      expect((await owners.get(identity))?.value, end).toMatchObject({ waiters: [], last: { caseId: a } });
    }
  });

  it('takes an identity released since it was seen, by a conditional replace of the row as read', async () => {
    const identity = IdentityOwners.identityOf(randomUUID());
    const [a, b] = [randomUUID(), randomUUID()];
    await owners.claim(identity, a, 'acting', true, new Date().toISOString());
    await owners.release(identity, a, 'failed', new Date().toISOString());
    const from = proxy.requests.length;
    expect(await owners.claim(identity, b, 'acting', true, new Date().toISOString())).toMatchObject({ owned: true, fresh: true, record: { caseId: b, last: { caseId: a, outcome: 'failed' } } });
    expect(ownerRequests(from)).toEqual(['GET /owners(…)', 'PUT /owners(…)']);
  });
});

describe('a release stored but whose answer was lost, and another case between it and the SDK\'s retry (Azurite, through the storage proxy)', () => {
  let proxy: StorageProxy;
  let storage: Storage;
  let owners: IdentityOwners;
  /** Another instance, straight to Azurite: a case in another worker. */
  let elsewhere: IdentityOwners;
  let elsewhereStorage: Storage;

  beforeAll(async () => {
    proxy = await startStorageProxy(inject('azurite'));
    const direct = claimStorageAccount();
    storage = createStorage({ AzureWebJobsStorage: proxy.connectionString(/AccountName=([^;]+)/.exec(direct)?.[1] ?? '') }, noCredential);
    owners = await IdentityOwners.open(storage);
    elsewhereStorage = createStorage({ AzureWebJobsStorage: direct }, noCredential);
    elsewhere = await IdentityOwners.open(elsewhereStorage);
  });
  afterAll(async () => {
    await proxy.stop();
  });

  it('still wakes the cases that waited when a new case took the released identity before the retry', async () => {
    const acting = { state: 'acting' as const, verified: true, onConflict: 'wait' as const, overridesContained: 'never' as const };
    const deps = { owners, storage, now: Date.now };
    const identity = IdentityOwners.identityOf(randomUUID());
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    expect(await takeOwnership(deps, identity, a, acting)).toEqual({ result: 'owned' });
    expect(await takeOwnership(deps, identity, b, acting)).toEqual({ result: 'wait', ownerCaseId: a });
    // The release is stored and its answer lost; before the SDK sends it again (about a second later), a new case
    // about the identity finds it released and takes it.
    let puts = 0;
    proxy.setGate(async (req) => {
      if (req.service !== 'table' || req.method !== 'PUT') {
        return 'forward';
      }
      puts++;
      if (puts === 1) {
        return 'lose-answer';
      }
      if (puts === 2) {
        expect(await elsewhere.claim(identity, c, 'acting', true, new Date().toISOString())).toMatchObject({ owned: true, fresh: true });
      }
      return 'forward';
    });
    let woken: string[];
    try {
      woken = await owners.release(identity, a, 'failed', new Date().toISOString());
    } finally {
      proxy.setGate(undefined);
    }
    expect(puts).toBe(2);
    expect((await owners.get(identity))?.value).toMatchObject({ caseId: c, waiters: [], last: { caseId: a, outcome: 'failed' } });
    // b waited for a: a's release must queue it (b is in nobody's waiters now, so nothing else ever would).
    expect(woken).toEqual([b]);
  });
});

describe('a claim stored but whose answer was lost, and another case waiting on it before the SDK\'s retry (Azurite, through the storage proxy)', () => {
  let proxy: StorageProxy;
  let storage: Storage;
  let owners: IdentityOwners;
  let elsewhere: { owners: IdentityOwners; storage: Storage; now: () => number };

  beforeAll(async () => {
    proxy = await startStorageProxy(inject('azurite'));
    const direct = claimStorageAccount();
    storage = createStorage({ AzureWebJobsStorage: proxy.connectionString(/AccountName=([^;]+)/.exec(direct)?.[1] ?? '') }, noCredential);
    owners = await IdentityOwners.open(storage);
    const other = createStorage({ AzureWebJobsStorage: direct }, noCredential);
    elsewhere = { owners: await IdentityOwners.open(other), storage: other, now: Date.now };
  });
  afterAll(async () => {
    await proxy.stop();
  });

  it('is still fresh (given back when its case does not use it) though a case registered as its waiter in between', async () => {
    const acting = { state: 'acting' as const, verified: true, onConflict: 'wait' as const, overridesContained: 'never' as const };
    for (const first of ['insert', 'replace'] as const) {
      const identity = IdentityOwners.identityOf(randomUUID());
      const [a, w, before] = [randomUUID(), randomUUID(), randomUUID()];
      if (first === 'replace') {
        // A record released by an earlier case: the claim takes it with a conditional replace.
        await elsewhere.owners.claim(identity, before, 'acting', true, new Date().toISOString());
        await elsewhere.owners.release(identity, before, 'failed', new Date().toISOString());
      }
      // The claim's write (the insert, or the replace of the released record) is stored and its answer lost; before
      // the SDK sends it again, a case in another worker finds the identity owned and registers as its waiter.
      let lost = 0;
      let retried = 0;
      proxy.setGate(async (req) => {
        if (req.service !== 'table' || req.method !== (first === 'insert' ? 'POST' : 'PUT')) {
          return 'forward';
        }
        if (lost === 0) {
          lost++;
          return 'lose-answer';
        }
        if (retried++ === 0) {
          expect(await takeOwnership(elsewhere, identity, w, acting), first).toEqual({ result: 'wait', ownerCaseId: a });
        }
        return 'forward';
      });
      let claim;
      try {
        claim = await owners.claim(identity, a, 'acting', true, new Date().toISOString());
      } finally {
        proxy.setGate(undefined);
      }
      expect([lost, retried], first).toEqual([1, 1]);
      expect((await owners.get(identity))?.value, first).toMatchObject({ caseId: a, waiters: [w] });
      // Nobody owned it before this claim: a run that does not use it must give it back (and wake w).
      expect(claim, first).toMatchObject({ owned: true, fresh: true });
    }
  });
});
