import type { ApprovalEntity } from '../approvals/approval-entity';
import { KIND_LABEL } from '../graph/identity-kind';
import { card, field, ownText, utc, type AdaptiveCard, type CardElement } from './adaptive-card';
import type { ApprovalCardLinks } from './approval-request-card';

const HEADLINE: Record<Exclude<ApprovalEntity['status'], 'pending'>, { text: string; color: 'Good' | 'Attention' | 'Warning'; after: string }> = {
  approved: { text: 'Approved', color: 'Good', after: 'The change runs now; the case page shows when it is done.' },
  rejected: { text: 'Rejected', color: 'Attention', after: 'Nothing changes.' },
  expired: { text: 'Expired without a decision', color: 'Warning', after: 'Nothing changed. If the change is still needed, ask again from the case page.' },
};

/**
 * The card that closes a request in the channel: approved, rejected or expired, who decided what and when (as the
 * approval page's outcome view shows it), and a link to the case page.
 */
export function approvalOutcomeCard(approval: ApprovalEntity, links: ApprovalCardLinks): AdaptiveCard {
  const status = approval.status === 'pending' ? 'expired' : approval.status;
  const head = HEADLINE[status];
  const decisions: CardElement[] = approval.decisions.map((d) =>
    field(d.decision === 'approve' ? 'Approved by' : 'Rejected by', `${d.name ?? d.by} at ${utc(d.at)}${d.comment ? ` — ${d.comment}` : ''}`),
  );
  return card(
    [
      ownText(`${head.text}: ${approval.title}`, { weight: 'Bolder', size: 'Medium', color: head.color }),
      field('Change', approval.actionText),
      field('Identity', `${approval.targetName} (${KIND_LABEL[approval.targetKind]}, ${approval.targetId})`),
      field('Requested by', approval.requestedByName),
      field('Reason', approval.reason),
      ...decisions,
      ...(status === 'expired' ? [field('Deadline', utc(approval.expiresAt))] : []),
      ownText(head.after, { isSubtle: true }),
    ],
    [{ title: 'Open the case', url: links.caseUrl }],
  );
}
