import { z } from 'zod';
import type { CaseStatus } from '../store/case-model';

/** The case list's filters, as its form sends them in the query string. */
export const caseListQuerySchema = z.strictObject({
  status: z.enum(['all', 'open', 'held', 'failed']).default('all'),
  since: z.enum(['any', '24h']).default('any'),
  /** An object id, a UPN or part of a display name. */
  q: z.string().trim().max(256, 'must be at most 256 characters').default(''),
});
export type CaseListQuery = z.infer<typeof caseListQuerySchema>;

/** The case statuses each status filter shows. */
export const STATUS_FILTERS: Record<CaseListQuery['status'], { label: string; statuses?: CaseStatus[] }> = {
  all: { label: 'All cases' },
  open: { label: 'Open (received, running or held)', statuses: ['received', 'running', 'held'] },
  held: { label: 'Held for approval', statuses: ['held'] },
  failed: { label: 'Failed or partly failed', statuses: ['failed', 'partial'] },
};

export type CaseListQueryResult = { ok: true; query: CaseListQuery } | { ok: false; problems: { field: string; message: string }[] };

/** Reads the filters from a query string; an unknown value names its field instead of being ignored. */
export function parseCaseListQuery(params: URLSearchParams): CaseListQueryResult {
  const raw: Record<string, string> = {};
  for (const key of new Set(params.keys())) {
    raw[key] = params.get(key) ?? '';
  }
  // An empty select or search box means "no filter", as a browser sends it.
  for (const key of ['status', 'since'] as const) {
    if (raw[key] === '') {
      delete raw[key];
    }
  }
  const parsed = caseListQuerySchema.safeParse(raw);
  if (parsed.success) {
    return { ok: true, query: parsed.data };
  }
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || (i.code === 'unrecognized_keys' ? i.keys.join(', ') : 'query'), message: i.message })),
  };
}
