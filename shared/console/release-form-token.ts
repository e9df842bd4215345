import { issueAntiForgeryToken, verifyAntiForgeryToken } from '../approvals/anti-forgery';

/**
 * The release form's anti-forgery token rides on the approval form's (same HMAC, key and 30-minute life), bound
 * to `case/<caseId>` and a nonce of its own: an approval id is 24 hex digits and an approval nonce is random, so
 * a token from one form can never pass on the other.
 */
const NONCE = 'case-release-form.v1';

function binding(caseId: string, principalId: string, now: number) {
  return { approvalId: `case/${caseId}`, principalId, nonce: NONCE, now };
}

/** Issues the hidden `af` field of a case's "Request release" form for the signed-in principal. */
export function issueReleaseFormToken(key: Buffer, caseId: string, principalId: string, now: number): string {
  return issueAntiForgeryToken(key, binding(caseId, principalId, now));
}

/** True when `token` was issued for this case and this principal within the last 30 minutes; never throws. */
export function verifyReleaseFormToken(key: Buffer, token: string, caseId: string, principalId: string, now: number): boolean {
  return verifyAntiForgeryToken(key, token, binding(caseId, principalId, now));
}
