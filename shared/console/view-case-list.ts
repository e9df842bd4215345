import type { RenderedPage } from '../approvals/approval-page';
import { viewerOf } from './build-case-view';
import { parseCaseListQuery } from './case-list-query';
import { checkCaseViewer } from './case-viewer-access';
import type { ConsoleDeps } from './console-deps';
import { listCases } from './list-cases';
import { renderBadCaseListQuery, renderCaseList } from './render-case-list';

/**
 * GET of the case list: to an allowed, signed-in viewer the cases matching the filters, newest first; to anyone
 * else a page with no case data (see `checkCaseViewer`).
 */
export async function viewCaseList(deps: ConsoleDeps, headers: { get(name: string): string | null }, url: URL): Promise<RenderedPage> {
  const access = await checkCaseViewer(deps, headers, `${url.pathname}${url.search}`);
  if (!access.ok) {
    return access.page;
  }
  const viewer = viewerOf(access.principal);
  const parsed = parseCaseListQuery(url.searchParams);
  if (!parsed.ok) {
    return renderBadCaseListQuery(viewer, parsed.problems);
  }
  return renderCaseList(viewer, parsed.query, await listCases(deps, parsed.query));
}
