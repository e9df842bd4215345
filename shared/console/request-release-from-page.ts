import { z } from 'zod';
import { decodeKey } from '../config';
import { AppError, ConflictError, ValidationError } from '../errors';
import type { RenderedPage } from '../approvals/approval-page';
import { requestRelease } from '../approvals/request-release';
import { buildCaseView, viewerOf } from './build-case-view';
import { casePagePath } from './case-page-url';
import type { ConsoleReleaseDeps } from './console-deps';
import { messagePage } from './console-page';
import { renderCasePage } from './render-case-page';
import { verifyReleaseFormToken } from './release-form-token';
import { loadCaseForViewer } from './view-case';

/** The release form as the case page posts it; the reason is checked apart so its absence re-shows the form. */
export const releaseFormSchema = z.object({
  af: z.string().min(1).max(200),
  targetId: z.string().min(1).max(300),
  reason: z.string().max(1000).default(''),
});

/**
 * POST of a case page's "Request release" form: the signed-in viewer becomes the requester. Checked in order:
 * an allowed viewer, the case exists, the form is whole, its anti-forgery token was issued to this viewer for this
 * case, a reason is given. Then `requestRelease` creates the approval (or returns the one already waiting), and the
 * browser is sent back to the case page (303), so a reload does not post again. Nothing is released here.
 */
export async function requestReleaseFromPage(deps: ConsoleReleaseDeps, headers: { get(name: string): string | null }, caseId: string, formBody: string): Promise<RenderedPage> {
  const loaded = await loadCaseForViewer(deps, headers, caseId, casePagePath(caseId));
  if (!loaded.ok) {
    return loaded.page;
  }
  const { bundle } = loaded;
  const { principal } = loaded.access;
  const viewer = viewerOf(principal);
  const back = { href: casePagePath(bundle.record.caseId), text: 'Back to the case' };
  const form = releaseFormSchema.safeParse(Object.fromEntries(new URLSearchParams(formBody)));
  if (!form.success) {
    return messagePage(400, 'This form is incomplete', 'Nothing was requested. Open the case page again and use its Request release button.', { viewer, link: back });
  }
  if (!deps.config.PUBLIC_BASE_URL || !deps.config.APPROVAL_SIGNING_KEY) {
    return messagePage(503, 'Releases are not configured', 'Approvals are not configured (PUBLIC_BASE_URL, APPROVAL_SIGNING_KEY), so nobody could approve a release.', { viewer, link: back });
  }
  if (!verifyReleaseFormToken(decodeKey(deps.config.APPROVAL_SIGNING_KEY), form.data.af, bundle.record.caseId, principal.objectId, deps.now())) {
    await deps.audit.write({ action: 'console.refused', scope: bundle.record.caseId, actor: principal.objectId, result: 'refused', detail: 'release form: anti-forgery token invalid' });
    return messagePage(403, 'This form has expired', 'Nothing was requested. Open the case page again and send the form within 30 minutes.', { viewer, link: back });
  }
  const reason = form.data.reason.trim();
  const refuse = async (status: number, message: string) =>
    renderCasePage(await buildCaseView(deps, bundle, principal, { releaseError: { targetId: form.data.targetId, message, reason: form.data.reason } }), status);
  if (reason.length === 0) {
    return refuse(400, 'Give a reason: the approvers read it before they decide.');
  }
  try {
    await requestRelease(deps, bundle.record.caseId, { targetId: form.data.targetId, reason }, { ok: true, principal });
  } catch (err) {
    if (err instanceof ValidationError || err instanceof ConflictError) {
      return refuse(err.status, err instanceof ConflictError ? 'This identity is no longer contained, so there is nothing to release.' : 'This case has no such identity.');
    }
    if (err instanceof AppError && err.status === 503) {
      return messagePage(503, 'Releases are not configured', err.message, { viewer, link: back });
    }
    throw err;
  }
  return { status: 303, headers: { location: `${casePagePath(bundle.record.caseId)}?notice=release-requested#approvals`, 'cache-control': 'no-store' }, body: '' };
}
