import type { Config } from '../config';
import { ensureError } from '../errors';
import type { Graph } from '../graph/graph-client';
import type { AuditLog } from '../store/audit-log';
import type { RenderedPage } from '../approvals/approval-page';
import { signedInPrincipal, type SignedInPrincipal } from '../auth/signed-in-principal';
import { messagePage } from './console-page';
import { isAllowedCaseViewer } from './is-allowed-case-viewer';

export interface CaseViewerDeps {
  config: Config;
  graph: Graph;
  audit: AuditLog;
  now: () => number;
  log?: { warn(msg: string): void };
}

export type ViewerAccess = { ok: true; principal: SignedInPrincipal } | { ok: false; page: RenderedPage };

/** Only a same-origin path (never `//host` or a full URL), so no link on these pages leads elsewhere. */
export function sameOriginPath(path: string): string {
  return /^\/(?![/\\])/.test(path) ? path : '/';
}

function signInHref(returnPath: string): string {
  return `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(sameOriginPath(returnPath))}`;
}

/**
 * Lets through only a verified signed-in principal who is an allowed case viewer (`APPROVERS` or `CASE_VIEWERS`).
 * Everyone else gets a page with no case data at all: "sign in to view" (401), "not allowed" (403), or "could not
 * check" (503) when Graph cannot answer the membership question, which is never taken as a yes or a no.
 * Refusals of signed-in people are audited in the `console` scope.
 */
export async function checkCaseViewer(deps: CaseViewerDeps, headers: { get(name: string): string | null }, returnPath: string): Promise<ViewerAccess> {
  const check = await signedInPrincipal({ config: deps.config, now: deps.now }, headers);
  if (!check.ok) {
    switch (check.reason) {
      case 'auth-off':
        return {
          ok: false,
          page: messagePage(503, 'Case pages need sign-in', 'App Service Authentication is not on for this app, so nobody can be verified and no case is shown. Ask an administrator to turn it on.'),
        };
      case 'invalid-token':
        await deps.audit.write({ action: 'console.refused', scope: 'console', actor: 'anonymous', result: 'refused', detail: `sign-in not verified: ${check.detail.slice(0, 200)}` });
        return {
          ok: false,
          page: messagePage(401, 'Sign in again to view cases', 'Your sign-in could not be verified. Nothing is shown until you sign in again.', { link: { href: signInHref(returnPath), text: 'Sign in' } }),
        };
      case 'signed-out':
        return {
          ok: false,
          page: messagePage(401, 'Sign in to view cases', 'Case pages are for the security team. Sign in with your work account to see them.', { link: { href: signInHref(returnPath), text: 'Sign in' } }),
        };
    }
  }
  const { principal } = check;
  const viewer = { name: principal.name, ...(principal.upn !== undefined ? { upn: principal.upn } : {}) };
  let allowed: boolean;
  try {
    allowed = await isAllowedCaseViewer(deps, principal.objectId);
  } catch (err) {
    deps.log?.warn(`case pages: could not check whether ${principal.objectId} may view cases: ${ensureError(err).message}`);
    return {
      ok: false,
      page: messagePage(503, 'Your access could not be checked', 'Microsoft Entra did not answer whether you may view cases, so nothing is shown. Try again in a minute.', {
        viewer,
        link: { href: sameOriginPath(returnPath), text: 'Try again' },
      }),
    };
  }
  if (!allowed) {
    await deps.audit.write({ action: 'console.refused', scope: 'console', actor: principal.objectId, result: 'refused', detail: `not a case viewer: ${returnPath.slice(0, 200)}` });
    return {
      ok: false,
      page: messagePage(403, 'You cannot view cases', 'Case pages are open to the people and groups in APPROVERS and CASE_VIEWERS. Ask a SOC lead to add you.', { viewer }),
    };
  }
  return { ok: true, principal };
}
