import { z } from 'zod';
import { encodeQueueMessage } from './case-queue';
import type { Storage } from './storage';

/** The queue that carries Teams cards to post, so a slow or failing Teams never holds up an approval. */
export const TEAMS_QUEUE = 'teams-cards';

/** One card to post: which approval, which moment of it, and how many posts were tried already. */
export const teamsCardMessageSchema = z.strictObject({
  approvalId: z.string().regex(/^[0-9a-f]{24}$/),
  /** `requested` asks for a decision; `progress` asks for the remaining approvals of a two-person rule; `outcome` closes it. */
  event: z.enum(['requested', 'progress', 'outcome']),
  attempt: z.number().int().min(1).max(100),
});
export type TeamsCardMessage = z.infer<typeof teamsCardMessageSchema>;

/** Queues a card, visible after `delaySeconds` (a retry waits in the queue, not in a sleeping function). */
export async function enqueueTeamsCard(storage: Storage, message: TeamsCardMessage, delaySeconds = 0): Promise<void> {
  const queue = await storage.queue(TEAMS_QUEUE);
  await queue.sendMessage(encodeQueueMessage(message), { visibilityTimeout: Math.max(0, Math.min(7 * 24 * 3600, Math.ceil(delaySeconds))) });
}
