import { decodeKey, type Config } from '../config';
import type { ApprovalEntity } from './approval-entity';
import { signApprovalToken } from './approval-token';

/** The link an approver opens; the token proves the link came from us, for this approval, before expiry. */
export function approvalLink(config: Pick<Config, 'PUBLIC_BASE_URL' | 'APPROVAL_SIGNING_KEY'>, approval: Pick<ApprovalEntity, 'id' | 'expiresAt' | 'nonce'>): string | undefined {
  if (!config.PUBLIC_BASE_URL || !config.APPROVAL_SIGNING_KEY) {
    return undefined;
  }
  const token = signApprovalToken(decodeKey(config.APPROVAL_SIGNING_KEY), { approvalId: approval.id, expiresAt: approval.expiresAt, nonce: approval.nonce });
  return `${config.PUBLIC_BASE_URL}/api/approvals/${encodeURIComponent(approval.id)}?token=${encodeURIComponent(token)}`;
}
