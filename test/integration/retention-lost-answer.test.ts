import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeExpired } from '../../shared/responder/purge-expired';
import { RecordTable } from '../../shared/store/record-table';
import { TABLES } from '../../shared/store/storage';
import type { StorageGate } from '../../dev/storage-proxy';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';

const DAY = 86_400_000;
const SILENT = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('the retention purge when the answer of a delete was lost', () => {
  let app: InProcessApp;
  beforeAll(async () => {
    app = await startInProcessApp({ throughStorageProxy: true });
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function blobsOf(caseId: string): Promise<string[]> {
    const names: string[] = [];
    for await (const blob of (await app.deps.storage.alertBodies()).listBlobsFlat({ prefix: `${caseId}/` })) {
      names.push(blob.name);
    }
    return names;
  }

  it('still removes the case\'s posted bodies when the answer of the transaction deleting its rows was lost', async () => {
    const now = app.clock.now;
    app.clock.now = now - 100 * DAY;
    const caseId = await app.containDemoAgent();
    expect((await app.deps.cases.getCase(caseId))?.status).toBe('done');
    expect(await blobsOf(caseId)).not.toEqual([]);
    app.clock.now = now;

    // The case's rows go in one transaction after the read of its partition: storage deletes them, the answer is
    // lost, and the SDK's retry meets rows that are gone (404).
    let previous = '';
    let lost = 0;
    const gate: StorageGate = (req) => {
      const decision = lost === 0 && req.service === 'table' && req.method === 'POST' && req.shape === '/$batch' && previous === 'GET /cases(…)' ? 'lose-answer' : 'forward';
      if (decision === 'lose-answer') {
        lost++;
      }
      if (req.service === 'table') {
        previous = `${req.method} ${req.shape}`;
      }
      return Promise.resolve(decision);
    };
    const first = await app.withStorageGate(gate, () => purgeExpired(app.deps, SILENT).then(
      (summary) => summary,
      (err: unknown) => err,
    ));
    expect(lost).toBe(1);
    expect((await new RecordTable(await app.deps.storage.table(TABLES.cases)).partition(caseId)).length).toBe(0);
    // The next run no longer finds the case (its row is gone): what this run left is left for ever.
    await purgeExpired(app.deps, SILENT);
    expect(await blobsOf(caseId)).toEqual([]);
    expect(first).toMatchObject({ casesRemoved: 1 });
  });
});
