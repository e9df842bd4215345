import { z } from 'zod';
import { QUEUES, type Storage } from './storage';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A target as the intake names it (see `TargetRef`), checked again here: the message is read back from storage. */
const targetRefSchema = z.discriminatedUnion('by', [
  z.object({ by: z.literal('objectId'), objectId: z.string().regex(GUID), upn: z.string().max(1100).optional(), name: z.string().max(1100).optional() }),
  z.object({ by: z.literal('appId'), appId: z.string().regex(GUID), name: z.string().max(1100).optional() }),
  z.object({ by: z.literal('upn'), upn: z.string().min(1).max(1100), name: z.string().max(1100).optional() }),
]);

/** At most this many targets ride in a message's hint (a queue message holds 64 KB). */
export const MAX_HINTED_TARGETS = 100;

/**
 * What the intake already knows about the targets it recorded, so the responder starts the Graph and Sentinel
 * reads the moment it takes the message, alongside taking the case's lease and loading it (the case loaded is
 * still what decides: a hinted target the case does not hold is ignored).
 */
export const caseHintSchema = z.object({
  source: z.enum(['incident', 'alert', 'entity', 'direct', 'lifecycle', 'drift']),
  incidentArmId: z.string().max(2000).optional(),
  alertId: z.string().max(2000).optional(),
  workspaceCustomerId: z.string().regex(GUID).optional(),
  targets: z.array(z.object({ key: z.string().max(1200), ref: targetRefSchema })).max(MAX_HINTED_TARGETS),
});
export type CaseHint = z.infer<typeof caseHintSchema>;

/** A message on the `containment` queue: which case to (re)run, why, and how often it was deferred. */
export const caseMessageSchema = z.object({
  caseId: z.string().regex(GUID),
  deferrals: z.number().int().min(0).max(1000).optional(),
  /** A decided approval (granted, rejected or expired) the run applies to its target first. */
  approvalId: z.string().regex(/^[0-9a-f]{24}$/).optional(),
  hint: caseHintSchema.optional(),
  /** Recovery found a case waiting long for this one, which is no longer at work: write its ownership rows again. */
  settleOwnership: z.literal(true).optional(),
});
export type CaseMessage = z.infer<typeof caseMessageSchema>;

/** The host's default queue message encoding is base64 (host.json `messageEncoding`). */
export function encodeQueueMessage(message: unknown): string {
  return Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
}

/**
 * Puts a case on the queue, visible after `delaySeconds`: long waits (throttling, another worker's lease, the
 * emergency stop) are spent in the queue, not in a sleeping function.
 */
export async function enqueueCase(storage: Storage, message: CaseMessage, delaySeconds = 0): Promise<void> {
  const queue = await storage.queue(QUEUES.containment);
  await queue.sendMessage(encodeQueueMessage(message), { visibilityTimeout: Math.max(0, Math.min(7 * 24 * 3600, Math.ceil(delaySeconds))) });
}
