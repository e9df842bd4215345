import type { Config } from '../config';
import { APPROVAL_ROW, type ApprovalEntity } from '../approvals/approval-entity';
import { forgetAnnounced } from '../approvals/announce-request';
import type { AuditLog } from '../store/audit-log';
import type { RecordTable } from '../store/record-table';
import type { Storage } from '../store/storage';
import { postTeamsMessage } from './post-teams-message';
import { teamsMessageFor } from './teams-message-for';
import { enqueueTeamsCard, teamsCardMessageSchema } from '../store/teams-card-queue';

/** Posts of one card before it is given up (about eight minutes of backoff, or longer when Teams says so). */
export const TEAMS_MAX_ATTEMPTS = 8;
const MAX_DELAY_S = 3600;

export interface DeliverDeps {
  config: Pick<Config, 'TEAMS_WEBHOOK_URL' | 'PUBLIC_BASE_URL' | 'APPROVAL_SIGNING_KEY'>;
  approvals: RecordTable<ApprovalEntity>;
  storage: Storage;
  audit: AuditLog;
  now: () => number;
  log?: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
}

/** Seconds before post number `attempt + 1`: Teams' `Retry-After` when sent, else 2, 4, 8, … seconds. */
function retryDelaySeconds(attempt: number, retryAfterMs: number | undefined): number {
  const seconds = retryAfterMs !== undefined ? Math.ceil(retryAfterMs / 1000) : 2 ** attempt;
  return Math.min(MAX_DELAY_S, Math.max(1, seconds));
}

/**
 * The `teams-cards` queue trigger: builds the card from the approval as it is now and posts it. A request card whose
 * approval was decided or lapsed meanwhile is dropped (the outcome card follows). A transient failure puts the card
 * back on the queue with a delay; a permanent one, or the last attempt, is audited on the case and logged, and the
 * message is done: the approval never depends on Teams. A request card given up through an outage is announced again
 * by the approvals timer. A posted card is audited on the case too.
 */
export async function deliverTeamsCard(deps: DeliverDeps, raw: unknown): Promise<void> {
  const parsed = teamsCardMessageSchema.safeParse(raw);
  if (!parsed.success) {
    deps.log?.error(`teams-cards: a message that is not a card request was dropped (${parsed.error.issues.map((i) => i.path.join('.') || 'message').join(', ')})`);
    return;
  }
  const message = parsed.data;
  const webhook = deps.config.TEAMS_WEBHOOK_URL;
  if (!webhook) {
    return;
  }
  const approval = (await deps.approvals.get(message.approvalId, APPROVAL_ROW))?.value;
  if (!approval) {
    deps.log?.warn(`teams-cards: approval ${message.approvalId} not found; its card was dropped`);
    return;
  }
  if (message.event !== 'outcome' && (approval.status !== 'pending' || approval.expiresAt <= deps.now())) {
    deps.log?.info(`teams-cards: approval ${approval.id} is ${approval.status}; its ${message.event} card was superseded`);
    return;
  }
  const result = await postTeamsMessage(webhook, teamsMessageFor(deps.config, approval, message.event));
  if (result.ok) {
    await deps.audit.write({ action: 'teams.card-posted', scope: approval.caseId, actor: 'system', targetId: approval.targetId, result: 'ok', detail: `${approval.id}: ${message.event} card (attempt ${message.attempt})` });
    return;
  }
  if (result.transient && message.attempt < TEAMS_MAX_ATTEMPTS) {
    const delay = retryDelaySeconds(message.attempt, result.retryAfterMs);
    deps.log?.warn(`teams-cards: approval ${approval.id} ${message.event} card, attempt ${message.attempt}: ${result.reason}; retried in ${delay} s`);
    await enqueueTeamsCard(deps.storage, { ...message, attempt: message.attempt + 1 }, delay);
    return;
  }
  const why = `${result.transient ? `gave up after ${message.attempt} attempts` : 'refused'}: ${result.reason}`;
  deps.log?.error(`teams-cards: approval ${approval.id} ${message.event} card not posted, ${why}`);
  await deps.audit.write({ action: 'teams.card-failed', scope: approval.caseId, actor: 'system', targetId: approval.targetId, result: 'failed', detail: `${approval.id}: ${message.event} card not posted, ${why}` });
  if (result.transient && message.event !== 'outcome') {
    // Teams was out for every attempt, not refusing the card: the approvals timer asks again later, on the request's
    // record of who was told. A refusal (the webhook itself wrong) would only be refused again.
    await forgetAnnounced(deps, approval.id, 'teams');
  }
}
