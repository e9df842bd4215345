import { decodeKey } from '../config';
import { AppError, ensureError, ValidationError } from '../errors';
import type { CaseStore } from '../store/case-store';
import type { Storage } from '../store/storage';
import { isConflict } from '../store/storage';
import { enqueueCase } from '../containment/case-message';
import type { ApprovalEntity } from './approval-entity';
import { approvalColumns } from './approval-columns';
import { issueAntiForgeryToken, verifyAntiForgeryToken } from './anti-forgery';
import { renderApprovalPage, type RenderedPage } from './approval-page';
import { approvalSummary } from './approval-summary';
import { verifyApprovalToken } from './approval-token';
import type { ClientPrincipal } from './client-principal';
import { applyDecision } from './decide-rules';
import { isAllowedApprover } from './is-allowed-approver';
import { parseDecisionForm, type DecisionForm } from './parse-decision-form';
import { recordOutcomeOnCase } from './record-outcome-on-case';
import { APPROVAL_ROW, type ApprovalDeps } from './request-approval';
import { announceApproval } from '../teams/announce-approval';

export interface ApprovalFlowDeps extends ApprovalDeps {
  storage: Storage;
  cases: CaseStore;
}

/** The signing key; approvals cannot work without it (config requires it with PUBLIC_BASE_URL). */
function signingKey(deps: ApprovalFlowDeps): Buffer {
  if (!deps.config.APPROVAL_SIGNING_KEY) {
    throw new AppError('ApprovalsNotConfigured', 503, 'Approvals are not configured (APPROVAL_SIGNING_KEY).');
  }
  return decodeKey(deps.config.APPROVAL_SIGNING_KEY);
}

type LinkCheck = { ok: true; approval: ApprovalEntity; etag: string } | { ok: false; page: RenderedPage };

/** Loads the approval and checks the link token: signed by us, for this approval, not expired, not re-issued. */
async function checkLink(deps: ApprovalFlowDeps, approvalId: string, token: string | undefined, actor: string): Promise<LinkCheck> {
  const stored = /^[0-9a-f]{24}$/.test(approvalId) ? await deps.approvals.get(approvalId, APPROVAL_ROW) : undefined;
  const verdict = token ? verifyApprovalToken(signingKey(deps), token, { approvalId, now: deps.now() }) : ({ ok: false, reason: 'malformed' } as const);
  const nonceOk = verdict.ok && stored !== undefined && verdict.claims.nonce === stored.value.nonce;
  if (!stored || !verdict.ok || !nonceOk) {
    const reason = verdict.ok ? 'wrong-approval' : verdict.reason;
    await deps.audit.write({ action: 'approval.link-refused', scope: stored?.value.caseId ?? 'approvals', actor, result: 'refused', detail: `${approvalId.slice(0, 64)}: ${reason}` });
    return { ok: false, page: renderApprovalPage({ kind: 'invalid-link', reason }) };
  }
  return { ok: true, approval: stored.value, etag: stored.etag };
}

/**
 * Why this principal may not decide, or undefined when they may. Separation of duties comes first, so a
 * sponsor who is also on the approvers list learns the real reason.
 */
async function refusal(deps: ApprovalFlowDeps, approval: ApprovalEntity, principal: ClientPrincipal): Promise<string | undefined> {
  const responder = await deps.responderId().catch(() => undefined);
  if (principal.objectId === approval.requestedBy || approval.excluded.includes(principal.objectId) || principal.objectId === responder) {
    return 'You asked for this, or you sponsor or own this identity: someone else must decide (separation of duties).';
  }
  if (!(await isAllowedApprover(deps, principal.objectId))) {
    return 'You are not on the approvers list for agent responders. Ask a SOC lead to decide.';
  }
  return undefined;
}

function outcomePage(approval: ApprovalEntity, now: number): RenderedPage {
  const status = approval.status === 'pending' && approval.expiresAt <= now ? 'expired' : approval.status;
  return renderApprovalPage({ kind: 'outcome', approval: approvalSummary(approval), status, decisions: approval.decisions });
}

/**
 * GET of an approval link: shows the request and, to a signed-in allowed approver, the Approve / Reject form.
 * Never changes the approval: scanners and previewers open links. The view itself is audited.
 */
export async function viewApproval(deps: ApprovalFlowDeps, approvalId: string, token: string | undefined, principal: ClientPrincipal | undefined, selfPath: string): Promise<RenderedPage> {
  const actor = principal?.objectId ?? 'anonymous';
  const link = await checkLink(deps, approvalId, token, actor);
  if (!link.ok) {
    return link.page;
  }
  const { approval } = link;
  await deps.audit.write({ action: 'approval.viewed', scope: approval.caseId, actor, result: 'info', detail: approval.id });
  if (approval.status !== 'pending' || approval.expiresAt <= deps.now()) {
    return outcomePage(approval, deps.now());
  }
  if (!principal) {
    return renderApprovalPage({ kind: 'sign-in', signInUrl: `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(selfPath)}` });
  }
  if (approval.decisions.some((d) => d.by === principal.objectId)) {
    // An approver of a two-person request coming back: their decision stands; show where the request is.
    return outcomePage(approval, deps.now());
  }
  const refused = await refusal(deps, approval, principal);
  if (refused) {
    await deps.audit.write({ action: 'approval.refused', scope: approval.caseId, actor, result: 'refused', detail: `${approval.id}: ${refused}` });
    return renderApprovalPage({ kind: 'refused', status: 403, title: 'You cannot decide this request', message: refused });
  }
  const antiForgeryToken = issueAntiForgeryToken(signingKey(deps), { approvalId: approval.id, principalId: principal.objectId, nonce: approval.nonce, now: deps.now() });
  return renderApprovalPage({
    kind: 'confirm',
    approval: approvalSummary(approval),
    formAction: `/api/approvals/${approval.id}`,
    linkToken: token ?? '',
    antiForgeryToken,
    signedInAs: principal.upn ?? principal.name,
  });
}

/** The form, or the page that says why it is unusable (audited: a refusal like any other). */
async function readForm(deps: ApprovalFlowDeps, approvalId: string, formBody: string, actor: string): Promise<{ ok: true; form: DecisionForm } | { ok: false; page: RenderedPage }> {
  try {
    return { ok: true, form: parseDecisionForm(formBody) };
  } catch (err) {
    if (!(err instanceof ValidationError)) {
      throw err;
    }
    const fields = err.fields.map((f) => f.field).join(', ');
    await deps.audit.write({ action: 'approval.refused', scope: 'approvals', actor, result: 'refused', detail: `${approvalId.slice(0, 64)}: form invalid (${fields})` });
    return {
      ok: false,
      page: renderApprovalPage({ kind: 'refused', status: 400, title: 'This form is incomplete', message: 'Nothing was decided. Open the approval link from the ticket or message again and use its Approve or Reject button.' }),
    };
  }
}

/**
 * POST of the form: the decision of a signed-in, allowed approver, checked against the link token and the
 * anti-forgery token. The first final decision wins (conditional write, so two racing posts decide once); a
 * granted approval is queued for the responder at once, a rejection is written onto the case.
 */
export async function decideApproval(deps: ApprovalFlowDeps, approvalId: string, formBody: string, principal: ClientPrincipal | undefined): Promise<RenderedPage> {
  const actor = principal?.objectId ?? 'anonymous';
  const read = await readForm(deps, approvalId, formBody, actor);
  if (!read.ok) {
    return read.page;
  }
  const { form } = read;
  for (;;) {
    const link = await checkLink(deps, approvalId, form.token, actor);
    if (!link.ok) {
      return link.page;
    }
    const { approval, etag } = link;
    if (!principal) {
      await deps.audit.write({ action: 'approval.refused', scope: approval.caseId, actor, result: 'refused', detail: `${approval.id}: not signed in` });
      return renderApprovalPage({ kind: 'sign-in', signInUrl: `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(`/api/approvals/${approval.id}?token=${encodeURIComponent(form.token)}`)}` });
    }
    if (!verifyAntiForgeryToken(signingKey(deps), form.af, { approvalId: approval.id, principalId: principal.objectId, nonce: approval.nonce, now: deps.now() })) {
      await deps.audit.write({ action: 'approval.refused', scope: approval.caseId, actor, result: 'refused', detail: `${approval.id}: anti-forgery token invalid` });
      return renderApprovalPage({ kind: 'refused', status: 403, title: 'This form has expired', message: 'Nothing was decided. Open the link again and decide within 30 minutes.' });
    }
    if (approval.status !== 'pending') {
      return outcomePage(approval, deps.now());
    }
    const refused = await refusal(deps, approval, principal);
    const outcome = applyDecision(
      approval,
      { by: principal.objectId, name: principal.upn ?? principal.name, decision: form.decision, at: deps.now(), ...(form.comment ? { comment: form.comment } : {}) },
      { now: deps.now(), isAllowedApprover: refused === undefined },
    );
    if (!outcome.ok) {
      await deps.audit.write({ action: 'approval.refused', scope: approval.caseId, actor, result: 'refused', detail: `${approval.id}: ${outcome.code}` });
      if (outcome.code === 'expired' || outcome.code === 'not-pending') {
        return outcomePage(approval, deps.now());
      }
      return renderApprovalPage({ kind: 'refused', status: outcome.code === 'already-decided' ? 409 : 403, title: 'Decision not recorded', message: refused ?? outcome.message });
    }
    const next: ApprovalEntity = { ...approval, ...outcome.record };
    if (outcome.final) {
      next.decidedAt = new Date(deps.now()).toISOString();
    }
    try {
      await deps.approvals.replace(approval.id, APPROVAL_ROW, next, etag, approvalColumns(next));
    } catch (err) {
      if (isConflict(err)) {
        continue; // another decision landed first: re-read and show or apply on top of it
      }
      throw err;
    }
    await deps.audit.write({ action: form.decision === 'approve' ? 'approval.approved' : 'approval.rejected', scope: approval.caseId, actor, result: 'ok', detail: `${approval.id}: ${next.status}${form.comment ? ` — ${form.comment}` : ''}` });
    await announceApproval(deps, next);
    if (outcome.final && next.status === 'approved') {
      await queueApprovedAction(deps, next);
    } else if (outcome.final) {
      // The decision stands whatever happens here; the case view is told on a best-effort basis.
      await recordOutcomeOnCase(deps, next).catch((err: unknown) => deps.log?.warn(`approval ${next.id}: outcome not written to case ${next.caseId}: ${ensureError(err).message}`));
    }
    return renderApprovalPage({ kind: 'recorded', approval: approvalSummary(next), decision: form.decision, status: next.status, decisions: next.decisions });
  }
}

/**
 * Hands a granted approval to the responder; the approvals timer re-drives it if this enqueue fails. The
 * `status` column (not the record) moves to `action-queued`, so the timer finds only approvals left behind.
 */
export async function queueApprovedAction(deps: ApprovalFlowDeps, approval: ApprovalEntity): Promise<void> {
  try {
    await enqueueCase(deps.storage, { caseId: approval.caseId, approvalId: approval.id });
    const stored = await deps.approvals.get(approval.id, APPROVAL_ROW);
    if (stored) {
      const queued: ApprovalEntity = { ...stored.value, actionQueuedAt: new Date(deps.now()).toISOString() };
      await deps.approvals.replace(approval.id, APPROVAL_ROW, queued, stored.etag, approvalColumns(queued, 'action-queued'));
    }
  } catch (err) {
    deps.log?.warn(`approval ${approval.id}: action not queued yet (${ensureError(err).message}); the approvals timer retries`);
  }
}
