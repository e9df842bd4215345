import { randomUUID } from 'node:crypto';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { RpcTypedData } from './core-types';
import type { FunctionRunner } from './function-runner';
import { errorMessage, type HostedFunction } from './hosted-function';
import type { HostLogger } from './host-logger';
import type { QueueOptions } from './host-config';
import { decodeQueueMessage, queueMessageToTypedData } from './queue-message-codec';
import { queueKeyOf } from './storage-queues';

export interface QueueListenerDeps {
  fn: HostedFunction;
  queue: QueueClient;
  poisonQueue: QueueClient;
  options: QueueOptions;
  runner: FunctionRunner;
  logger: HostLogger;
  /** How long a received message stays invisible while its invocation runs; renewed at half-time. */
  leaseMs: number;
}

interface InFlightMessage {
  message: DequeuedMessageItem;
  popReceipt: string;
  /** Set when stop() released the message; the invocation's outcome is then ignored. */
  abandoned: boolean;
}

const MIN_POLL_MS = 100;

/**
 * Polls one queue with the queues extension's semantics: up to `batchSize` messages per receive, a new receive once
 * in-flight work drops to `newBatchThreshold`, exponential backoff from 100 ms to `maxPollingInterval` while idle,
 * `visibilityTimeout` before a failed message is retried, and `<queue>-poison` after `maxDequeueCount` attempts.
 */
export class QueueListener {
  readonly key: string;
  readonly #deps: QueueListenerDeps;
  readonly #inFlight = new Set<InFlightMessage>();
  #stopped = false;
  #wakeRequested = false;
  #wake: (() => void) | undefined;
  #slotFreed: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(deps: QueueListenerDeps) {
    this.#deps = deps;
    this.key = queueKeyOf(deps.queue);
  }

  start(): void {
    this.#loop = this.#run();
  }

  /** Poll now instead of waiting out the backoff (the host itself just wrote to this queue). */
  wake(): void {
    this.#wakeRequested = true;
    this.#wake?.();
  }

  /** Stops polling; running invocations continue (the host drains them) until {@link abandonInFlight}. */
  async stopPolling(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    this.#slotFreed?.();
    await this.#loop;
  }

  /** Makes messages whose invocations are still running visible again right away, so another host can take them. */
  async abandonInFlight(): Promise<void> {
    await Promise.all(
      [...this.#inFlight].map(async (item) => {
        item.abandoned = true;
        try {
          await this.#deps.queue.updateMessage(item.message.messageId, item.popReceipt, undefined, 0);
        } catch {
          // Already completed or lease lost: nothing to give back.
        }
      }),
    );
  }

  async #run(): Promise<void> {
    const { queue, options, logger, fn } = this.#deps;
    let delay = 0;
    while (!this.#stopped) {
      if (this.#inFlight.size > options.newBatchThreshold) {
        await new Promise<void>((resolve) => (this.#slotFreed = resolve));
        this.#slotFreed = undefined;
        continue;
      }
      this.#wakeRequested = false;
      let received: DequeuedMessageItem[] = [];
      try {
        const response = await queue.receiveMessages({
          numberOfMessages: options.batchSize,
          visibilityTimeout: Math.max(1, Math.ceil(this.#deps.leaseMs / 1000)),
        });
        received = response.receivedMessageItems;
      } catch (err) {
        logger.warn(`Queue listener for '${fn.name}' could not receive from '${queue.name}': ${errorMessage(err)}`);
      }
      if (this.#stopped) {
        // Received after stop was requested: hand the messages straight back.
        await Promise.all(received.map((m) => queue.updateMessage(m.messageId, m.popReceipt, undefined, 0).catch(() => undefined)));
        break;
      }
      for (const message of received) {
        const item: InFlightMessage = { message, popReceipt: message.popReceipt, abandoned: false };
        this.#inFlight.add(item);
        void this.#process(item).finally(() => {
          this.#inFlight.delete(item);
          this.#slotFreed?.();
        });
      }
      if (received.length > 0 || this.#wakeRequested) {
        delay = 0;
        continue;
      }
      delay = delay === 0 ? MIN_POLL_MS : Math.min(delay * 2, options.maxPollingIntervalMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(timer);
          delay = 0;
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async #process(item: InFlightMessage): Promise<void> {
    const { fn, runner, options, logger } = this.#deps;
    const { message } = item;
    // A message that exhausted its attempts elsewhere (e.g. a crash mid-invocation) is not run again.
    if (message.dequeueCount > options.maxDequeueCount) {
      await this.#toPoison(item);
      return;
    }
    const renew = setInterval(() => void this.#renew(item), Math.max(1000, this.#deps.leaseMs / 2));
    let failed = false;
    try {
      const content = decodeQueueMessage(message.messageText, options.messageEncoding);
      await runner.run(fn, {
        data: queueMessageToTypedData(content),
        triggerMetadata: triggerMetadataOf(message, content),
        reason: `New queue message detected on '${this.#deps.queue.name}'.`,
      });
    } catch {
      failed = true;
    } finally {
      clearInterval(renew);
    }
    if (item.abandoned) {
      return;
    }
    try {
      if (!failed) {
        await this.#deps.queue.deleteMessage(message.messageId, item.popReceipt);
      } else if (message.dequeueCount >= options.maxDequeueCount) {
        await this.#toPoison(item);
      } else {
        await this.#deps.queue.updateMessage(
          message.messageId,
          item.popReceipt,
          undefined,
          Math.ceil(options.visibilityTimeoutMs / 1000),
        );
      }
    } catch (err) {
      logger.warn(`Could not complete queue message ${message.messageId} for '${fn.name}': ${errorMessage(err)}`);
    }
  }

  async #toPoison(item: InFlightMessage): Promise<void> {
    const { queue, poisonQueue, logger, options } = this.#deps;
    logger.warn(
      `Message has reached MaxDequeueCount of ${options.maxDequeueCount}. Moving message to queue '${poisonQueue.name}'.`,
    );
    // The original (still encoded) text is copied, as the SDK does, so the poison message can be replayed as is.
    await poisonQueue.createIfNotExists();
    await poisonQueue.sendMessage(item.message.messageText);
    await queue.deleteMessage(item.message.messageId, item.popReceipt);
  }

  async #renew(item: InFlightMessage): Promise<void> {
    try {
      const result = await this.#deps.queue.updateMessage(
        item.message.messageId,
        item.popReceipt,
        undefined,
        Math.max(1, Math.ceil(this.#deps.leaseMs / 1000)),
      );
      if (result.popReceipt) {
        item.popReceipt = result.popReceipt;
      }
    } catch (err) {
      this.#deps.logger.warn(`Could not extend the lease of queue message ${item.message.messageId}: ${errorMessage(err)}`);
    }
  }
}

/**
 * Trigger metadata with the names and value kinds the runtime sends (DequeueCount as a number, times as ISO
 * strings); the library camel-cases the keys, so handlers read `context.triggerMetadata.dequeueCount`.
 */
function triggerMetadataOf(message: DequeuedMessageItem, content: string): Record<string, RpcTypedData> {
  return {
    QueueTrigger: { string: content },
    DequeueCount: { int: message.dequeueCount },
    Id: { string: message.messageId },
    PopReceipt: { string: message.popReceipt },
    InsertionTime: { json: JSON.stringify(message.insertedOn.toISOString()) },
    ExpirationTime: { json: JSON.stringify(message.expiresOn.toISOString()) },
    NextVisibleTime: { json: JSON.stringify(message.nextVisibleOn.toISOString()) },
  };
}

/** Metadata for a message the admin API injects without a queue round trip (first attempt, fresh id). */
export function syntheticQueueTriggerMetadata(content: string, now = new Date()): Record<string, RpcTypedData> {
  return triggerMetadataOf(
    {
      messageId: randomUUID(),
      popReceipt: randomUUID(),
      dequeueCount: 1,
      insertedOn: now,
      expiresOn: new Date(now.getTime() + 7 * 24 * 3600_000),
      nextVisibleOn: now,
      messageText: content,
    },
    content,
  );
}
