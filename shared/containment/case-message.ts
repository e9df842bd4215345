import { z } from 'zod';
import { QUEUES, type Storage } from '../store/storage';

/** A message on the `containment` queue: which case to (re)run, and how often it was deferred. */
export const caseMessageSchema = z.object({
  caseId: z.uuid(),
  deferrals: z.number().int().min(0).max(1000).optional(),
  /**
   * The case's kind, so the queue trigger picks the planner without reading the case first (one storage
   * round trip less before the disable). Messages without it are routed by reading the case.
   */
  kind: z.enum(['containment', 'release', 'expiry', 'drift']).optional(),
  /** A granted approval whose action (release, held containment, deletion) is to run. */
  approvalId: z.string().regex(/^[0-9a-f]{24}$/).optional(),
});
export type CaseMessage = z.infer<typeof caseMessageSchema>;

/** The host's default queue message encoding is base64 (host.json `messageEncoding`). */
export function encodeQueueMessage(message: unknown): string {
  return Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
}

/**
 * Puts a case back on the queue, visible after `delaySeconds`: long waits (throttling, another worker's
 * lease) are spent in the queue, not in a sleeping function.
 */
export async function enqueueCase(storage: Storage, message: CaseMessage, delaySeconds = 0): Promise<void> {
  const queue = await storage.queue(QUEUES.containment);
  await queue.sendMessage(encodeQueueMessage(message), { visibilityTimeout: Math.max(0, Math.min(7 * 24 * 3600, Math.ceil(delaySeconds))) });
}
