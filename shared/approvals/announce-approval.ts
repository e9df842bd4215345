import type { Config } from '../config';
import { ensureError } from '../errors';
import { countApprovals } from './decide-rules';
import type { ApprovalEntity } from './approval-entity';
import type { Storage } from '../store/storage';
import { enqueueTeamsCard, type TeamsCardMessage } from '../store/teams-card-queue';

export interface AnnounceDeps {
  config: Pick<Config, 'TEAMS_WEBHOOK_URL'>;
  /** The app's storage. The wired dependencies always carry it (`Deps.storage`), even where a caller's type omits it. */
  storage?: Storage;
  log?: { warn(msg: string): void };
}

/** Which card an approval in this state calls for. */
export function cardEventOf(approval: Pick<ApprovalEntity, 'status' | 'decisions'>): TeamsCardMessage['event'] {
  if (approval.status !== 'pending') {
    return 'outcome';
  }
  return countApprovals(approval) > 0 ? 'progress' : 'requested';
}

/**
 * Tells the Teams channel about an approval: created (a card asking for a decision), one of several approvals
 * given (a card asking for the rest), or decided or expired (a card with the outcome). The card goes on the
 * `teams-cards` queue, whose trigger posts it and retries a throttled or failing Teams, so this never waits on
 * Teams and never throws: the approval stands whatever happens here. Does nothing when `TEAMS_WEBHOOK_URL` is unset.
 *
 * @returns true when the card is queued (or there is no Teams channel), false when it could not be
 *
 * @example
 * await announceApproval(deps, approval); // once the approval is stored: created, decided or expired
 */
export async function announceApproval(deps: AnnounceDeps, approval: ApprovalEntity): Promise<boolean> {
  if (!deps.config.TEAMS_WEBHOOK_URL) {
    return true;
  }
  const event = cardEventOf(approval);
  if (!deps.storage) {
    deps.log?.warn(`approval ${approval.id}: no queue in reach, Teams ${event} card not sent`);
    return false;
  }
  try {
    await enqueueTeamsCard(deps.storage, { approvalId: approval.id, event, attempt: 1 });
    return true;
  } catch (err) {
    deps.log?.warn(`approval ${approval.id}: Teams ${event} card not queued: ${ensureError(err).message}`);
    return false;
  }
}
