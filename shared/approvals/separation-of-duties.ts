import { UpstreamError, ensureError } from '../errors';
import type { IdentityKind } from '../graph/identity-kind';
import { readAccountable } from '../graph/sponsors';
import type { SignedInPrincipal } from '../auth/signed-in-principal';
import type { ApprovalEntity } from './approval-entity';
import { isAllowedApprover } from './is-allowed-approver';
import type { ApprovalDeps } from './request-approval';

/** Kinds that have sponsors or owners in Entra (everything the responder acts on). */
export function isAccountableKind(kind: IdentityKind): kind is Exclude<IdentityKind, 'other'> {
  return kind !== 'other';
}

export type Eligibility =
  | { ok: true }
  | {
      ok: false;
      /** `unverifiable`: a rule could not be checked (Graph refused or failed): nobody may decide. */
      code: 'separation-of-duties' | 'not-allowed' | 'unverifiable';
      message: string;
    };

const SOD_MESSAGE = 'You asked for this, or you sponsor or own this identity: someone else must decide (separation of duties).';

/**
 * Whether this verified principal may decide this approval, checked when the page is shown and again when the
 * decision is posted: not the requester, the responder or anyone recorded as accountable; on the approvers list
 * (groups checked in Entra now); and not a sponsor or owner as Entra lists them now (every page, groups
 * expanded). A rule that cannot be checked refuses: separation of duties fails closed.
 */
export async function checkEligibility(deps: ApprovalDeps, approval: ApprovalEntity, principal: SignedInPrincipal): Promise<Eligibility> {
  const who = principal.objectId;
  const responder = await deps.responderId().catch(() => undefined);
  if (who === approval.requestedBy || approval.excluded.includes(who) || who === responder) {
    return { ok: false, code: 'separation-of-duties', message: SOD_MESSAGE };
  }
  try {
    if (!(await isAllowedApprover(deps, who))) {
      return { ok: false, code: 'not-allowed', message: 'You are not on the approvers list for agent responders. Ask a SOC lead to decide.' };
    }
  } catch (err) {
    if (!(err instanceof UpstreamError)) {
      throw err;
    }
    return { ok: false, code: 'unverifiable', message: `Nobody can decide this request right now: membership of the approver groups could not be checked in Microsoft Entra (${ensureError(err).message}). Nothing was changed; try again in a few minutes.` };
  }
  if (isAccountableKind(approval.targetKind) && /^[0-9a-f-]{36}$/.test(approval.targetId)) {
    const read = await readAccountable(deps.graph, { id: approval.targetId, kind: approval.targetKind });
    if (!read.ok) {
      const permission = read.failure.status === 403 || read.failure.status === 401 ? ` An administrator must grant the responder's managed identity the Microsoft Graph application permission ${read.failure.permission}.` : '';
      return {
        ok: false,
        code: 'unverifiable',
        message: `Nobody can decide this request until the identity's sponsors and owners can be read, because separation of duties cannot be checked. ${read.failure.message}${permission} Nothing was changed.`,
      };
    }
    if (read.ids.includes(who)) {
      return { ok: false, code: 'separation-of-duties', message: SOD_MESSAGE };
    }
  }
  return { ok: true };
}
