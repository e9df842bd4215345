import { TableClient, TableServiceClient } from '@azure/data-tables';
import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import { RestError } from '@azure/core-rest-pipeline';

/** Table names: one partition per case in `cases` keeps a whole case readable with one query. */
export const TABLES = { cases: 'cases', approvals: 'approvals', audit: 'audit', keys: 'keys', sweeps: 'sweeps', owners: 'owners', control: 'control' } as const;
export type TableName = (typeof TABLES)[keyof typeof TABLES];

export const QUEUES = { containment: 'containment' } as const;
export const ALERT_BODIES_CONTAINER = 'alert-bodies';

export interface Storage {
  table(name: TableName): Promise<TableClient>;
  queue(name: string): Promise<QueueClient>;
  alertBodies(): Promise<ContainerClient>;
  /** For the health endpoint: can we reach table storage at all? */
  ping(): Promise<boolean>;
}

export interface StorageSettings {
  AzureWebJobsStorage?: string | undefined;
  AzureWebJobsStorage__accountName?: string | undefined;
}

/**
 * The blob and queue SDKs wait 4 s before their first retry (then 12 s, 28 s), where the table SDK and the Functions
 * host's own storage clients wait about 1 s. A connection reset on a reused keep-alive socket (the server closed it as
 * it was picked up) then held an intake's answer, or a containment, 4 s: measured as the intake's p99 under a storm.
 * The same exponential backoff from 0.8 s (0.8, 2.4, 5.6 s: four tries, about 9 s of patience).
 */
const BLOB_AND_QUEUE_RETRY = { retryOptions: { retryDelayInMs: 800, maxTries: 4 } };

/**
 * Storage clients from the same connection the Functions host uses: a connection string (Azurite locally),
 * or identity-based `AzureWebJobsStorage__accountName` with the managed identity in Azure.
 * Tables, queues and the blob container are created on first use.
 */
export function createStorage(settings: StorageSettings, credential: TokenCredential): Storage {
  const cs = settings.AzureWebJobsStorage;
  const account = settings.AzureWebJobsStorage__accountName;
  const local = cs !== undefined && /UseDevelopmentStorage=true|127\.0\.0\.1|localhost/i.test(cs);
  const tableService = cs
    ? TableServiceClient.fromConnectionString(expandDevStorage(cs), { allowInsecureConnection: local })
    : new TableServiceClient(`https://${account}.table.core.windows.net`, credential);
  const queueService = cs ? QueueServiceClient.fromConnectionString(expandDevStorage(cs), BLOB_AND_QUEUE_RETRY) : new QueueServiceClient(`https://${account}.queue.core.windows.net`, credential, BLOB_AND_QUEUE_RETRY);
  const blobService = cs ? BlobServiceClient.fromConnectionString(expandDevStorage(cs), BLOB_AND_QUEUE_RETRY) : new BlobServiceClient(`https://${account}.blob.core.windows.net`, credential, BLOB_AND_QUEUE_RETRY);

  const tables = new Map<string, Promise<TableClient>>();
  const queues = new Map<string, Promise<QueueClient>>();
  let container: Promise<ContainerClient> | undefined;

  const tableClient = (name: string): TableClient =>
    cs ? TableClient.fromConnectionString(expandDevStorage(cs), name, { allowInsecureConnection: local }) : new TableClient(`https://${account}.table.core.windows.net`, name, credential);

  const once = <T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> => {
    let p = map.get(key);
    if (!p) {
      p = make().catch((err: unknown) => {
        map.delete(key); // a failed create is retried by the next caller
        throw err;
      });
      map.set(key, p);
    }
    return p;
  };

  return {
    table: (name) =>
      once(tables, name, async () => {
        await ignoreConflict(tableService.createTable(name));
        return tableClient(name);
      }),
    queue: (name) =>
      once(queues, name, async () => {
        const client = queueService.getQueueClient(name);
        await client.createIfNotExists();
        return client;
      }),
    alertBodies: () => {
      container ??= (async () => {
        const client = blobService.getContainerClient(ALERT_BODIES_CONTAINER);
        await client.createIfNotExists();
        return client;
      })();
      return container;
    },
    async ping() {
      try {
        const iterator = tableService.listTables().byPage({ maxPageSize: 1 });
        await iterator.next();
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** `UseDevelopmentStorage=true` is the Functions shorthand for Azurite on its default ports. */
function expandDevStorage(cs: string): string {
  if (!/^\s*UseDevelopmentStorage=true\s*;?\s*$/i.test(cs)) {
    return cs;
  }
  const key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
  return (
    `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};` +
    'BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;'
  );
}

/** True when a storage call failed because the entity or resource already exists (409) or the etag moved (412). */
export function isConflict(err: unknown): boolean {
  return err instanceof RestError && (err.statusCode === 409 || err.statusCode === 412);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof RestError && err.statusCode === 404;
}

async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isConflict(err)) {
      throw err;
    }
  }
}
