import { odata } from '@azure/data-tables';
import { decodeKey } from '../config';
import { listCaseApprovals } from '../approvals/list-case-approvals';
import type { SignedInPrincipal } from '../auth/signed-in-principal';
import type { CaseBundle } from '../store/case-model';
import { caseTimeline } from './case-timeline';
import type { ConsoleDeps } from './console-deps';
import { issueReleaseFormToken } from './release-form-token';
import type { CasePageView } from './render-case-page';

/** A viewer as the page header names them. */
export function viewerOf(p: SignedInPrincipal): CasePageView['viewer'] {
  return { name: p.name, ...(p.upn !== undefined ? { upn: p.upn } : {}) };
}

/**
 * Everything the case page shows: the case's approvals (with who decided what), its audit events merged with its
 * steps into one timeline, and a release-form token bound to this viewer and this case.
 */
export async function buildCaseView(deps: ConsoleDeps, bundle: CaseBundle, principal: SignedInPrincipal, extra: Pick<CasePageView, 'notice' | 'releaseError'> = {}): Promise<CasePageView> {
  const caseId = bundle.record.caseId;
  const [approvals, rows, audit, responderId] = await Promise.all([
    listCaseApprovals(deps.approvals, caseId),
    deps.approvals.query(odata`caseId eq ${caseId}`),
    deps.audit.list(caseId),
    deps.responderId().catch(() => undefined),
  ]);
  // The timeline's actors are object ids; the case's approvals know the names of the people who asked and decided.
  const names = new Map<string, string>([[principal.objectId, principal.upn ?? principal.name]]);
  for (const { value: a } of rows) {
    names.set(a.requestedBy, a.requestedByName);
    for (const d of a.decisions) {
      names.set(d.by.toLowerCase(), d.name ?? d.by);
    }
  }
  const now = deps.now();
  const key = deps.config.PUBLIC_BASE_URL && deps.config.APPROVAL_SIGNING_KEY ? decodeKey(deps.config.APPROVAL_SIGNING_KEY) : undefined;
  return {
    viewer: viewerOf(principal),
    bundle,
    approvals,
    timeline: caseTimeline(bundle, audit, names, responderId),
    now,
    ...(key ? { releaseToken: issueReleaseFormToken(key, caseId, principal.objectId, now) } : {}),
    ...extra,
  };
}
