import type { TokenCredential } from '@azure/identity';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStorageProxy, type StorageProxy } from '../../dev/storage-proxy';
import { KeyStore } from '../../shared/store/key-store';
import { createStorage } from '../../shared/store/storage';
import { claimStorageAccount } from '../helpers/storage-account';
import { loseFirstAnswer } from '../helpers/lose-answer';

const noCredential: TokenCredential = { getToken: () => Promise.reject(new Error('no token in this test')) };

describe('claims of keyed facts, once across workers (Azurite, through the storage proxy)', () => {
  let proxy: StorageProxy;
  let keys: KeyStore;

  beforeAll(async () => {
    proxy = await startStorageProxy(inject('azurite'));
    const account = /AccountName=([^;]+)/.exec(claimStorageAccount())?.[1] ?? '';
    keys = await KeyStore.open(createStorage({ AzureWebJobsStorage: proxy.connectionString(account) }, noCredential));
  });
  afterAll(async () => {
    await proxy.stop();
  });

  it('claims a key whose claim was stored but whose answer was lost (a sponsor warning is then still sent)', async () => {
    const key = `agent-${randomUUID()}|2026-12-31`;
    const { gate, lost } = loseFirstAnswer((req) => req.service === 'table' && req.method === 'POST');
    proxy.setGate(gate);
    try {
      expect(await keys.claim('warn-test', key, 'sweep-1')).toEqual({ claimed: true, value: 'sweep-1' });
    } finally {
      proxy.setGate(undefined);
    }
    expect(lost()).toBe(1);
  });

  it('never claims a key held already, by another sweep or by an earlier attempt of the same one', async () => {
    const key = `agent-${randomUUID()}|2026-12-31`;
    expect(await keys.claim('warn-test', key, 'sweep-1')).toMatchObject({ claimed: true });
    expect(await keys.claim('warn-test', key, 'sweep-2')).toMatchObject({ claimed: false, value: 'sweep-1' });
    // The same sweep again (a page retried after a crash) at another moment: the warning may have gone out already.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await keys.claim('warn-test', key, 'sweep-1')).toMatchObject({ claimed: false, value: 'sweep-1' });
  });
});
