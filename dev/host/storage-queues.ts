import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';

export type QueueWriteListener = (queueKey: string) => void;

/**
 * Queue clients per (connection setting, queue), created on first use like the host does (`createIfNotExists`).
 * Also the place where the host's own writes are announced, so listeners of the same queue can poll at once.
 */
export class StorageQueues {
  readonly #env: NodeJS.ProcessEnv;
  readonly #services = new Map<string, QueueServiceClient>();
  readonly #queues = new Map<string, Promise<QueueClient>>();
  readonly #writeListeners = new Set<QueueWriteListener>();

  constructor(env: NodeJS.ProcessEnv) {
    this.#env = env;
  }

  /** A client for `queueName` on the account the connection setting names; the queue exists once this resolves. */
  async queue(connection: string | undefined, queueName: string): Promise<QueueClient> {
    assertQueueName(queueName);
    const service = this.#service(connection);
    const key = queueKeyOf(service.getQueueClient(queueName));
    let pending = this.#queues.get(key);
    if (!pending) {
      const client = service.getQueueClient(queueName);
      pending = client.createIfNotExists().then(() => client);
      // A failed create (Azurite not up yet) must not be cached forever.
      pending.catch(() => this.#queues.delete(key));
      this.#queues.set(key, pending);
    }
    return pending;
  }

  /** Sends already-encoded message texts, then tells listeners of that queue that work arrived. */
  async send(connection: string | undefined, queueName: string, encodedMessages: string[]): Promise<void> {
    const client = await this.queue(connection, queueName);
    for (const text of encodedMessages) {
      await client.sendMessage(text);
    }
    const key = queueKeyOf(client);
    for (const listener of this.#writeListeners) {
      listener(key);
    }
  }

  onWrite(listener: QueueWriteListener): () => void {
    this.#writeListeners.add(listener);
    return () => this.#writeListeners.delete(listener);
  }

  #service(connection: string | undefined): QueueServiceClient {
    const name = connection && connection.length > 0 ? connection : 'AzureWebJobsStorage';
    let service = this.#services.get(name);
    if (!service) {
      // The runtime accepts both the bare setting name and the AzureWebJobs-prefixed one.
      const connectionString = this.#env[name] ?? this.#env[`AzureWebJobs${name}`];
      if (!connectionString) {
        throw new Error(
          `Storage connection "${name}" is not configured: set app setting "${name}" to a connection string`,
        );
      }
      // Retried as the Functions host's own queue client does (exponential from 0.8 s), not from the JS SDK's 4 s.
      service = QueueServiceClient.fromConnectionString(connectionString, { retryOptions: { retryDelayInMs: 800, maxTries: 4 } });
      this.#services.set(name, service);
    }
    return service;
  }
}

/** Identifies a queue across connection settings that point at the same account. */
export function queueKeyOf(client: QueueClient): string {
  return client.url.toLowerCase().replace(/\/+$/, '');
}

/** Fails early with the naming rule instead of the service's terse 400. */
export function assertQueueName(name: string): void {
  if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(name)) {
    throw new Error(
      `Invalid queue name '${name}': use 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit`,
    );
  }
}
