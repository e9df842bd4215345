import type { CaseStore } from '../store/case-store';
import type { CaseRecord, TargetRecord } from '../store/case-model';
import { mapLimit } from '../async/map-limit';
import { STATUS_FILTERS, type CaseListQuery } from './case-list-query';

/** Cases shown on one page of the list. */
export const CASES_SHOWN = 100;
/** Case rows read for one list (Table storage cannot sort): past this the page says the list is incomplete. */
export const CASES_SCANNED = 5_000;
/** Target rows read for a search by name or UPN, which the table cannot index. */
export const TARGETS_SCANNED = 20_000;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One line of the case list. */
export interface CaseListRow {
  record: CaseRecord;
  targets: TargetRecord[];
}

export interface CaseList {
  rows: CaseListRow[];
  /** Cases that matched, of which the newest {@link CASES_SHOWN} are in `rows`. */
  matched: number;
  /** More rows existed than were read: the list may miss older cases. */
  incomplete: boolean;
}

/** The name a person recognises for a target, most specific first. */
export function targetName(t: TargetRecord): string {
  const ref = t.ref;
  return t.displayName ?? ref.name ?? (ref.by === 'upn' ? ref.upn : ref.by === 'objectId' ? (ref.upn ?? ref.objectId) : ref.appId);
}

function matchesText(t: TargetRecord, needle: string): boolean {
  const ref = t.ref;
  const hay = [t.displayName, t.objectId, t.appId, ref.name, ref.by === 'appId' ? ref.appId : ref.upn];
  return hay.some((v) => v !== undefined && v.toLowerCase().includes(needle));
}

/**
 * The case list: cases filtered by status group and age, or the cases whose targets match an identity (an object
 * id is looked up on the server; a UPN or name is searched in the targets read), newest first.
 */
export async function listCases(deps: { cases: CaseStore; now: () => number }, query: CaseListQuery): Promise<CaseList> {
  const statuses = STATUS_FILTERS[query.status].statuses;
  const createdSince = query.since === '24h' ? new Date(deps.now() - 24 * 3_600_000).toISOString() : undefined;
  let records: CaseRecord[];
  let incomplete: boolean;
  if (query.q === '') {
    const listed = await deps.cases.listCases({ ...(statuses ? { statuses } : {}), ...(createdSince ? { createdSince } : {}), maxRows: CASES_SCANNED });
    records = listed.cases;
    incomplete = listed.truncated;
  } else {
    const needle = query.q.toLowerCase();
    const found = GUID.test(needle)
      ? await deps.cases.findTargets({ objectId: needle, maxRows: TARGETS_SCANNED })
      : await deps.cases.findTargets({ maxRows: TARGETS_SCANNED });
    const caseIds = [...new Set(found.targets.filter((t) => matchesText(t.target, needle)).map((t) => t.caseId))];
    const loaded = await mapLimit(caseIds, 8, (id) => deps.cases.getCase(id));
    records = loaded.filter((r): r is CaseRecord => r !== undefined && (statuses === undefined || statuses.includes(r.status)) && (createdSince === undefined || r.createdAt >= createdSince));
    incomplete = found.truncated;
  }
  records.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.caseId.localeCompare(b.caseId));
  const shown = records.slice(0, CASES_SHOWN);
  const targets = await mapLimit(shown, 8, (r) => deps.cases.targetsOf(r.caseId));
  return { rows: shown.map((record, i) => ({ record, targets: targets[i] ?? [] })), matched: records.length, incomplete };
}
