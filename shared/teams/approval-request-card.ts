import type { ApprovalEntity } from '../approvals/approval-entity';
import { countApprovals } from '../approvals/decide-rules';
import { KIND_LABEL } from '../graph/identity-kind';
import { card, field, ownText, utc, type AdaptiveCard } from './adaptive-card';

/** Where a card's buttons lead: the signed-in approval page (its link token included) and the case page. */
export interface ApprovalCardLinks {
  approvalUrl?: string | undefined;
  caseUrl?: string | undefined;
}

/**
 * The card that asks the channel for a decision: what will change, on which identity, who asked and why, how many
 * approvals it needs and until when. It shows what the approval page shows a signed-in approver, less the list of
 * approvers (their sign-in addresses stay on the page), and links to that page, where the decision is made.
 * With approvals already given (a two-person rule), it says how many more are needed.
 */
export function approvalRequestCard(approval: ApprovalEntity, links: ApprovalCardLinks): AdaptiveCard {
  const given = countApprovals(approval);
  const progress = given > 0 ? `${given} of ${approval.quorum} approvals given; ${approval.quorum - given} more needed` : `${approval.quorum} approval${approval.quorum === 1 ? '' : 's'} needed`;
  return card(
    [
      ownText(given > 0 ? 'More approvals needed' : 'Approval needed', { weight: 'Bolder', size: 'Medium', color: 'Attention' }),
      ownText(approval.title, { weight: 'Bolder' }),
      field('Change', approval.actionText),
      field('Identity', `${approval.targetName} (${KIND_LABEL[approval.targetKind]}, ${approval.targetId})`),
      field('Requested by', approval.requestedByName),
      field('Reason', approval.reason),
      field('Approvals', progress),
      field('Decide before', utc(approval.expiresAt)),
      ownText('Open the approval page, sign in, and approve or reject there. Opening it changes nothing; the requester and the identity’s sponsors and owners cannot approve.', { isSubtle: true }),
    ],
    [
      { title: 'Review and decide', url: links.approvalUrl },
      { title: 'Open the case', url: links.caseUrl },
    ],
  );
}
