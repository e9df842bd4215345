import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../errors';
import { issuesToFields } from '../alerts/direct-request';
import type { Sentinel } from '../sentinel/sentinel-client';
import type { CaseStore } from '../store/case-store';
import type { TicketProvider } from '../tickets/ticket-provider';
import { approvalLink } from './approval-link';
import { announceRequest } from './announce-request';
import { requestApproval, type ApprovalDeps } from './request-approval';
import type { PrincipalCheck } from '../auth/signed-in-principal';

export const releaseRequestSchema = z.strictObject({
  targetId: z.string().min(1).max(300),
  reason: z.string().trim().min(1).max(1000),
});
export type ReleaseRequest = z.infer<typeof releaseRequestSchema>;

export interface ReleaseRequestResult {
  approvalId: string;
  status: string;
  expiresAt: string;
  quorum: number;
  approvalUrl: string | undefined;
  created: boolean;
}

/**
 * Asks to release a contained target: creates the approval (nothing changes until approved) and puts its
 * link on the ticket and the incident (`announceRequest`). While a release of the target waits for a decision, asking again
 * returns that same approval, so there is only ever one live link to release a target.
 *
 * @throws AppError 401/403 without a verified signed-in person, ValidationError (400), NotFoundError (404),
 *   ConflictError (409: the target is not contained),
 *   AppError 503 when approvals are not configured (nobody could ever decide).
 */
export async function requestRelease(
  deps: ApprovalDeps & { cases: CaseStore; tickets: TicketProvider; sentinel: Sentinel },
  caseId: string,
  body: unknown,
  who: PrincipalCheck,
): Promise<ReleaseRequestResult> {
  if (!who.ok) {
    // A function key proves access to the app, not who is asking: the requester must be a named person,
    // because whoever asks can never approve.
    throw who.reason === 'auth-off'
      ? new AppError('SignInUnavailable', 403, `A release must be asked for by a signed-in person, and sign-in cannot be verified: ${who.detail}`)
      : new AppError('SignInRequired', 401, `A release must be asked for by a signed-in person. ${who.detail}`);
  }
  const caller = who.principal;
  const parsed = releaseRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError('Invalid release request', issuesToFields(parsed.error.issues));
  }
  if (!deps.config.PUBLIC_BASE_URL || !deps.config.APPROVAL_SIGNING_KEY) {
    throw new AppError('ApprovalsNotConfigured', 503, 'Approvals are not configured (PUBLIC_BASE_URL, APPROVAL_SIGNING_KEY): a release cannot be approved.');
  }
  const bundle = await deps.cases.load(caseId);
  if (!bundle) {
    throw new NotFoundError(`No case ${caseId}`);
  }
  const wanted = parsed.data.targetId.toLowerCase();
  const target = bundle.targets.find((t) => t.objectId === wanted || t.key === wanted);
  if (!target) {
    throw new ValidationError('No such target on this case', [{ field: 'targetId', message: `case ${caseId} has no target ${parsed.data.targetId}` }]);
  }
  if (target.status !== 'contained') {
    throw new ConflictError('TargetNotContained', `Target ${parsed.data.targetId} is ${target.status}, not contained: there is nothing to release.`);
  }
  const earlier = await deps.approvals.query(odata`caseId eq ${caseId} and targetKey eq ${target.key} and kind eq 'release'`);
  const live = earlier.find((a) => a.value.status === 'pending' && a.value.expiresAt > deps.now());
  if (live) {
    // Asking again also tells the approvers on any channel the first request did not reach.
    await announceRequest(deps, live);
    const { value } = live;
    return { approvalId: value.id, status: value.status, expiresAt: new Date(value.expiresAt).toISOString(), quorum: value.quorum, approvalUrl: approvalLink(deps.config, value), created: false };
  }
  // The approval is announced on the ticket and the incident as well as to the approvers (`announceRequest`).
  const { approval, link, created } = await requestApproval(deps, {
    kind: 'release',
    caseId,
    target,
    reason: parsed.data.reason,
    requestedBy: caller.objectId,
    requestedByName: caller.upn ?? caller.name,
    // The n-th release of this target: two identical requests racing get the same approval, and a request
    // after a rejection or an expiry gets a new one.
    round: `release-${earlier.length + 1}`,
  });
  return { approvalId: approval.id, status: approval.status, expiresAt: new Date(approval.expiresAt).toISOString(), quorum: approval.quorum, approvalUrl: link, created };
}
