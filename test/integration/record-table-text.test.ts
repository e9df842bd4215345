import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { beforeAll, describe, expect, it } from 'vitest';
import { RecordTable } from '../../shared/store/record-table';
import { createStorage, TABLES } from '../../shared/store/storage';
import { claimStorageAccount } from '../helpers/storage-account';

const noCredential: TokenCredential = { getToken: () => Promise.reject(new Error('no token in this test')) };

/** Every UTF-16 code unit below U+0100, the line and paragraph separators, specials, and a pair split in two. */
const AWKWARD = [...Array.from({ length: 0x100 }, (_, c) => String.fromCharCode(c)), '\u2028', '\u2029', '\ufeff', '\ufffe', '\uffff', '\ud800', '\udfff', '😀'].join('');

describe('records holding any text, on Azure Tables (Azurite)', () => {
  let table: RecordTable<{ title: string; names: string[] }>;
  beforeAll(async () => {
    table = new RecordTable(await createStorage({ AzureWebJobsStorage: claimStorageAccount() }, noCredential).table(TABLES.cases));
  });

  it('writes and reads back, exactly, text with NUL, controls, line and paragraph separators and lone surrogates, alone and in a transaction', async () => {
    const pk = randomUUID();
    const value = { title: AWKWARD, names: [...AWKWARD].map((c) => `name${c}end`) };
    await table.insert(pk, 'single', value);
    await table.transact(pk, [
      { op: 'create', rowKey: 'a', value },
      { op: 'upsert', rowKey: 'b', value: { title: '\u2028', names: ['\u2029'] } },
    ]);
    expect((await table.get(pk, 'single'))?.value).toEqual(value);
    expect((await table.get(pk, 'a'))?.value).toEqual(value);
    expect((await table.get(pk, 'b'))?.value).toEqual({ title: '\u2028', names: ['\u2029'] });
  });
});
