import type { RenderedPage } from '../approvals/approval-page';
import type { CaseBundle } from '../store/case-model';
import { buildCaseView, viewerOf } from './build-case-view';
import { casePagePath, CASE_LIST_PATH } from './case-page-url';
import { checkCaseViewer, type ViewerAccess } from './case-viewer-access';
import type { ConsoleDeps } from './console-deps';
import { messagePage } from './console-page';
import { renderCasePage } from './render-case-page';

const CASE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The case, or the page to answer instead (not a viewer, or no such case). Access is checked before any read. */
export async function loadCaseForViewer(
  deps: ConsoleDeps,
  headers: { get(name: string): string | null },
  caseId: string,
  returnPath: string,
): Promise<{ ok: true; access: Extract<ViewerAccess, { ok: true }>; bundle: CaseBundle } | { ok: false; page: RenderedPage }> {
  const access = await checkCaseViewer(deps, headers, returnPath);
  if (!access.ok) {
    return access;
  }
  const bundle = CASE_ID.test(caseId) ? await deps.cases.load(caseId.toLowerCase()) : undefined;
  if (!bundle) {
    return { ok: false, page: messagePage(404, 'No such case', 'There is no case with this id. It may have been mistyped.', { viewer: viewerOf(access.principal), link: { href: CASE_LIST_PATH, text: 'All cases' } }) };
  }
  return { ok: true, access, bundle };
}

/**
 * GET of a case page, for an allowed, signed-in viewer: details, identities with time to contain and a release
 * form, approvals and decisions, and the timeline. The view is audited (scope `console`).
 */
export async function viewCase(deps: ConsoleDeps, headers: { get(name: string): string | null }, caseId: string, query: URLSearchParams): Promise<RenderedPage> {
  const loaded = await loadCaseForViewer(deps, headers, caseId, casePagePath(caseId));
  if (!loaded.ok) {
    return loaded.page;
  }
  const { principal } = loaded.access;
  await deps.audit.write({ action: 'console.case-viewed', scope: 'console', actor: principal.objectId, result: 'info', detail: loaded.bundle.record.caseId });
  const notice = query.get('notice') === 'release-requested' ? 'release-requested' : undefined;
  return renderCasePage(await buildCaseView(deps, loaded.bundle, principal, notice ? { notice } : {}));
}
