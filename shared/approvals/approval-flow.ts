import { randomBytes } from 'node:crypto';
import { decodeKey } from '../config';
import { AppError, ensureError, ValidationError } from '../errors';
import type { CaseStore } from '../store/case-store';
import type { Storage } from '../store/storage';
import { isConflict } from '../store/storage';
import { enqueueCase } from '../store/case-queue';
import type { PrincipalCheck, SignedInPrincipal } from '../auth/signed-in-principal';
import type { ApprovalEntity } from './approval-entity';
import { approvalColumns } from './approval-columns';
import { sameRecord } from '../store/record-table';
import { issueAntiForgeryToken, verifyAntiForgeryToken } from './anti-forgery';
import { renderApprovalPage, type RenderedPage } from './approval-page';
import { approvalSummary } from './approval-summary';
import { verifyApprovalToken } from './approval-token';
import { linkCookie } from './approval-link-cookie';
import { applyDecision } from './decide-rules';
import { checkEligibility } from './separation-of-duties';
import { isAllowedApprover } from './is-allowed-approver';
import { parseDecisionForm, type DecisionForm } from './parse-decision-form';
import { APPROVAL_ROW } from './approval-entity';
import type { ApprovalDeps } from './request-approval';
import { announceApproval } from './announce-approval';

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
 * The page for a visitor without a verified principal: "sign in to view" and nothing about the request. The
 * link token goes into a cookie scoped to this approval's path, so the sign-in round trip's return address
 * (`post_login_redirect_uri`, which Easy Auth and proxies may log) never carries it.
 */
function signedOutPage(deps: ApprovalFlowDeps, approval: ApprovalEntity, token: string, who: Exclude<PrincipalCheck, { ok: true }>): RenderedPage {
  if (who.reason === 'auth-off') {
    return renderApprovalPage({ kind: 'sign-in-unavailable' });
  }
  const path = `/api/approvals/${approval.id}`;
  const page = renderApprovalPage({ kind: 'sign-in', reason: who.reason, signInUrl: `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(path)}` });
  return { ...page, cookies: [linkCookie(deps.config, approval, token, deps.now())] };
}

/** The approval with what the page shows of its case (incident, when contained), read now. */
async function summaryOf(deps: ApprovalFlowDeps, approval: ApprovalEntity): Promise<ReturnType<typeof approvalSummary>> {
  const bundle = await deps.cases.load(approval.caseId).catch((err: unknown) => {
    deps.log?.warn(`approval ${approval.id}: case ${approval.caseId} not read for the page: ${ensureError(err).message}`);
    return undefined;
  });
  return approvalSummary(approval, { record: bundle?.record, target: bundle?.targets.find((t) => t.key === approval.targetKey) });
}

/** Who decided what and why is for the people involved: the approvers and the requester. */
async function mayView(deps: ApprovalFlowDeps, approval: ApprovalEntity, principal: SignedInPrincipal): Promise<boolean> {
  const who = principal.objectId;
  if (who === approval.requestedBy || approval.decisions.some((d) => d.by === who)) {
    return true;
  }
  return isAllowedApprover(deps, who).catch(() => false);
}

async function outcomePage(deps: ApprovalFlowDeps, approval: ApprovalEntity, principal: SignedInPrincipal): Promise<RenderedPage> {
  if (!(await mayView(deps, approval, principal))) {
    return notYours(principal);
  }
  const now = deps.now();
  const status = approval.status === 'pending' && approval.expiresAt <= now ? 'expired' : approval.status;
  return renderApprovalPage({ kind: 'outcome', approval: await summaryOf(deps, approval), status, decisions: approval.decisions, signedInAs: signedInAs(principal) });
}

function notYours(principal: SignedInPrincipal): RenderedPage {
  return renderApprovalPage({ kind: 'refused', status: 403, title: 'You cannot view this request', message: 'Only the approvers of agent responders and the person who asked can see this request. Nothing was changed.', signedInAs: signedInAs(principal) });
}

const signedInAs = (p: SignedInPrincipal): string => p.upn ?? p.name;

/** A refusal to decide, shown and audited; an unverifiable rule says what is missing, to approvers only. */
async function refusedPage(deps: ApprovalFlowDeps, approval: ApprovalEntity, principal: SignedInPrincipal, eligibility: Exclude<Awaited<ReturnType<typeof checkEligibility>>, { ok: true }>): Promise<RenderedPage> {
  await deps.audit.write({ action: 'approval.refused', scope: approval.caseId, actor: principal.objectId, targetId: approval.targetId, result: 'refused', detail: `${approval.id}: ${eligibility.code}: ${eligibility.message}` });
  if (eligibility.code === 'unverifiable') {
    return renderApprovalPage({ kind: 'cannot-decide', approval: await summaryOf(deps, approval), message: eligibility.message, signedInAs: signedInAs(principal) });
  }
  return renderApprovalPage({ kind: 'refused', status: 403, title: 'You cannot decide this request', message: eligibility.message, signedInAs: signedInAs(principal) });
}

/**
 * GET of an approval link: to a verified, allowed approver, the request and the Approve / Reject form; to
 * anyone else far less (see the page kinds). Never changes the approval: scanners and previewers open links.
 * The view itself is audited. `token` comes from the link, or from the cookie set before sign-in.
 */
export async function viewApproval(deps: ApprovalFlowDeps, approvalId: string, token: string | undefined, who: PrincipalCheck): Promise<RenderedPage> {
  const actor = who.ok ? who.principal.objectId : 'anonymous';
  const link = await checkLink(deps, approvalId, token, actor);
  if (!link.ok) {
    return link.page;
  }
  const { approval } = link;
  await deps.audit.write({ action: 'approval.viewed', scope: approval.caseId, actor, result: 'info', detail: who.ok ? approval.id : `${approval.id}: not signed in (${who.reason})` });
  if (!who.ok) {
    return signedOutPage(deps, approval, token ?? '', who);
  }
  const { principal } = who;
  if (approval.status !== 'pending' || approval.expiresAt <= deps.now() || approval.decisions.some((d) => d.by === principal.objectId)) {
    // Decided, expired, or an approver of a two-person request coming back: show where the request is.
    return outcomePage(deps, approval, principal);
  }
  const eligibility = await checkEligibility(deps, approval, principal);
  if (!eligibility.ok) {
    return refusedPage(deps, approval, principal, eligibility);
  }
  const antiForgeryToken = issueAntiForgeryToken(signingKey(deps), { approvalId: approval.id, principalId: principal.objectId, nonce: approval.nonce, now: deps.now() });
  return renderApprovalPage({
    kind: 'confirm',
    approval: await summaryOf(deps, approval),
    formAction: `/api/approvals/${approval.id}`,
    linkToken: token ?? '',
    antiForgeryToken,
    signedInAs: signedInAs(principal),
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
    const noReason = err.fields.length === 1 && err.fields[0]?.field === 'comment' && /required to reject/.test(err.fields[0].message);
    return {
      ok: false,
      page: renderApprovalPage(
        noReason
          ? { kind: 'refused', status: 400, title: 'Give a reason to reject', message: 'Nothing was decided. A rejection needs a reason: go back, write why in the Reason box, and press Reject again.' }
          : { kind: 'refused', status: 400, title: 'This form is incomplete', message: 'Nothing was decided. Open the approval link from the ticket or message again and use its Approve or Reject button.' },
      ),
    };
  }
}

/**
 * POST of the form: the decision of a verified, allowed approver, checked against the link token and the
 * anti-forgery token, with separation of duties checked again against Entra. The first final decision wins
 * (conditional write, so two racing posts decide once); a granted approval is queued for the responder at once,
 * a rejection is written onto the case.
 */
export async function decideApproval(deps: ApprovalFlowDeps, approvalId: string, formBody: string, who: PrincipalCheck): Promise<RenderedPage> {
  const actor = who.ok ? who.principal.objectId : 'anonymous';
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
    if (!who.ok) {
      await deps.audit.write({ action: 'approval.refused', scope: approval.caseId, actor, result: 'refused', detail: `${approval.id}: not signed in (${who.reason}: ${who.detail})` });
      return signedOutPage(deps, approval, form.token, who);
    }
    const { principal } = who;
    if (!verifyAntiForgeryToken(signingKey(deps), form.af, { approvalId: approval.id, principalId: principal.objectId, nonce: approval.nonce, now: deps.now() })) {
      await deps.audit.write({ action: 'approval.refused', scope: approval.caseId, actor, result: 'refused', detail: `${approval.id}: anti-forgery token invalid` });
      return renderApprovalPage({ kind: 'refused', status: 403, title: 'This form has expired', message: 'Nothing was decided. Open the link again and decide within 30 minutes.', signedInAs: signedInAs(principal) });
    }
    if (approval.status !== 'pending') {
      return outcomePage(deps, approval, principal);
    }
    const eligibility = await checkEligibility(deps, approval, principal);
    if (!eligibility.ok && eligibility.code === 'unverifiable') {
      return refusedPage(deps, approval, principal, eligibility);
    }
    const decision = { by: principal.objectId, name: signedInAs(principal), decision: form.decision, at: deps.now(), ...(form.comment ? { comment: form.comment } : {}), post: randomBytes(8).toString('hex') };
    const outcome = applyDecision(approval, decision, { now: deps.now(), isAllowedApprover: eligibility.ok });
    if (!outcome.ok) {
      await deps.audit.write({ action: 'approval.refused', scope: approval.caseId, actor, result: 'refused', detail: `${approval.id}: ${outcome.code}` });
      if (outcome.code === 'expired' || outcome.code === 'not-pending') {
        return outcomePage(deps, approval, principal);
      }
      return renderApprovalPage({ kind: 'refused', status: outcome.code === 'already-decided' ? 409 : 403, title: 'Decision not recorded', message: eligibility.ok ? outcome.message : eligibility.message, signedInAs: signedInAs(principal) });
    }
    const next: ApprovalEntity = { ...approval, ...outcome.record };
    if (outcome.final) {
      next.decidedAt = new Date(deps.now()).toISOString();
    }
    /** The row as read after this decision landed under another write (see below). */
    let under: ApprovalEntity | undefined;
    try {
      await deps.approvals.replace(approval.id, APPROVAL_ROW, next, etag, approvalColumns(next));
    } catch (err) {
      if (!isConflict(err)) {
        throw err;
      }
      // Another decision landed first (re-read, and show or apply on top of it), unless the row holds this decision:
      // then this write was stored and its answer lost, and the SDK's retry met it, or met what another approver or
      // the timer wrote on top of it in between (the row holds more than `next`; this decision still counts).
      const stored = await deps.approvals.get(approval.id, APPROVAL_ROW);
      if (!stored?.value.decisions.some((d) => sameRecord(d, decision))) {
        continue;
      }
      under = outcome.final || sameRecord(stored.value, next) ? undefined : stored.value;
    }
    await deps.audit.write({ action: form.decision === 'approve' ? 'approval.approved' : 'approval.rejected', scope: approval.caseId, actor, result: 'ok', detail: `${approval.id}: ${next.status}${form.comment ? ` — ${form.comment}` : ''}` });
    if (under) {
      // Whoever decided (or expired it) on top announced the record, this decision in it; a later state is theirs to act on.
      return renderApprovalPage({ kind: 'recorded', approval: await summaryOf(deps, under), decision: form.decision, status: under.status, decisions: under.decisions, signedInAs: signedInAs(principal) });
    }
    await announceApproval(deps, next);
    if (outcome.final) {
      // Granted or rejected, the case applies the decision; the approvals timer re-drives it if this enqueue fails.
      await queueApprovedAction(deps, next);
    }
    return renderApprovalPage({ kind: 'recorded', approval: await summaryOf(deps, next), decision: form.decision, status: next.status, decisions: next.decisions, signedInAs: signedInAs(principal) });
  }
}

/**
 * Hands a decided approval to the responder; the approvals timer re-drives it if this enqueue fails. The
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
