import { createStorage } from '../../shared/store/storage';
import type { Stack } from './start-stack';

/** The documents stored beside a case (posted bodies, rejected-entity lists, Sentinel's copy), by blob name. */
export async function caseBlobs(stack: Pick<Stack, 'env'>, caseId: string): Promise<Map<string, string>> {
  const noCredential = { getToken: () => Promise.resolve(null) };
  const container = await createStorage({ AzureWebJobsStorage: stack.env['AzureWebJobsStorage'] }, noCredential).alertBodies();
  const blobs = new Map<string, string>();
  for await (const blob of container.listBlobsFlat({ prefix: `${caseId}/` })) {
    blobs.set(blob.name, (await container.getBlobClient(blob.name).downloadToBuffer()).toString('utf8'));
  }
  return blobs;
}
