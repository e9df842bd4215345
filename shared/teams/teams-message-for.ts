import type { Config } from '../config';
import type { ApprovalEntity } from '../approvals/approval-entity';
import { approvalLink } from '../approvals/approval-link';
import { casePageUrl } from '../console/case-page-url';
import { approvalOutcomeCard } from './approval-outcome-card';
import { approvalRequestCard } from './approval-request-card';
import { teamsMessage, type TeamsMessage } from './teams-message';
import type { TeamsCardMessage } from '../store/teams-card-queue';

/** The webhook body for one moment of an approval, with links to the approval page and the case page. */
export function teamsMessageFor(config: Pick<Config, 'PUBLIC_BASE_URL' | 'APPROVAL_SIGNING_KEY'>, approval: ApprovalEntity, event: TeamsCardMessage['event']): TeamsMessage {
  const links = { approvalUrl: approvalLink(config, approval), caseUrl: casePageUrl(config, approval.caseId) };
  return teamsMessage(event === 'outcome' ? approvalOutcomeCard(approval, links) : approvalRequestCard(approval, links));
}
