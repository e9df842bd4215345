import type { Graph } from './graph-client';
import { batch, type BatchItem } from './batch';
import { ownersPath, sponsorsPath } from './service-principals';
import type { DirectoryObject, IdentityKind } from './identity-kind';
import { GROUP_MEMBERS_PERMISSION, listTransitiveMembers } from './group-members';
import { UpstreamError, ensureError } from '../errors';

export interface Accountable {
  sponsors: string[];
  owners: string[];
}

interface Page {
  value?: { id?: string }[];
  '@odata.nextLink'?: string;
}

/**
 * Reads the sponsors and owners of many agents through `$batch` (20 requests a call) instead of two calls
 * per agent, following every `@odata.nextLink`. Objects whose lists cannot be read come back with empty lists
 * and an error entry.
 */
export async function listSponsorsAndOwners(graph: Graph, objects: readonly Pick<DirectoryObject, 'id' | 'kind'>[]): Promise<{ byId: Map<string, Accountable>; errors: Map<string, number> }> {
  const items: BatchItem[] = [];
  for (const obj of objects) {
    const s = sponsorsPath(obj);
    const o = ownersPath(obj);
    if (s) {
      items.push({ id: `s:${obj.id}`, method: 'GET', url: `${s}?$select=id` });
    }
    if (o) {
      items.push({ id: `o:${obj.id}`, method: 'GET', url: `${o}?$select=id` });
    }
  }
  const results = await batch(graph, items);
  const byId = new Map<string, Accountable>(objects.map((o) => [o.id, { sponsors: [], owners: [] }]));
  const errors = new Map<string, number>();
  for (const [id, r] of results) {
    const [kind, objectId] = [id.slice(0, 1), id.slice(2)];
    const entry = byId.get(objectId);
    if (!entry) {
      continue;
    }
    if (r.status >= 300) {
      errors.set(objectId, r.status);
      continue;
    }
    let page = r.body as Page | undefined;
    const ids = idsOf(page);
    try {
      while (page?.['@odata.nextLink']) {
        page = (await graph.next<Page>(page['@odata.nextLink'])).body;
        ids.push(...idsOf(page));
      }
    } catch (err) {
      errors.set(objectId, err instanceof UpstreamError ? (err.httpStatus ?? 503) : 503);
      continue;
    }
    if (kind === 's') {
      entry.sponsors = ids;
    } else {
      entry.owners = ids;
    }
  }
  return { byId, errors };
}

function idsOf(page: Page | undefined): string[] {
  return (page?.value ?? []).flatMap((v) => (typeof v.id === 'string' ? [v.id.toLowerCase()] : []));
}

/** Why the people accountable for an identity could not be read, in words for a page, a log and the audit. */
export interface AccountableReadFailure {
  /** What was being read, e.g. `the sponsors of the agent identity a9e…`. */
  what: string;
  /** Graph's HTTP status, or undefined for a time-out or a network failure. */
  status: number | undefined;
  /** Graph's error code (e.g. `Authorization_RequestDenied`), when it answered. */
  code: string | undefined;
  /** The least-privileged application permission the read needs (per Graph's docs). */
  permission: string;
  /** Plain words: what happened and what fixes it. */
  message: string;
}

export type AccountableRead = { ok: true; ids: string[] } | { ok: false; failure: AccountableReadFailure };

/** Least-privileged application permission of each sponsors read, by kind (per Graph's docs). */
const SPONSORS_PERMISSION: Partial<Record<IdentityKind, string>> = {
  agentIdentity: 'AgentIdentity.ReadWrite.All', // the docs list no read-only permission for this read
  agentBlueprintPrincipal: 'Application.Read.All',
  agentUser: 'User.Read.All',
  user: 'User.Read.All',
};
const OWNERS_PERMISSION = 'Application.Read.All';

/** The longest a complete read may take before it counts as failed (retries included). */
export const ACCOUNTABLE_READ_TIMEOUT_MS = 20_000;

/**
 * Every person accountable for an identity: all of its sponsors and owners (every page), with sponsor and
 * owner groups expanded to their transitive members. Complete or nothing: when any read fails (403, 429, 503,
 * time-out) the answer says which read and which permission it needs, so separation of duties can fail closed.
 */
export async function readAccountable(graph: Graph, obj: Pick<DirectoryObject, 'id' | 'kind'>, timeoutMs = ACCOUNTABLE_READ_TIMEOUT_MS): Promise<AccountableRead> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<AccountableRead>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, failure: { what: `the sponsors and owners of ${obj.id}`, status: undefined, code: undefined, permission: SPONSORS_PERMISSION[obj.kind] ?? OWNERS_PERMISSION, message: `Microsoft Graph did not answer within ${timeoutMs / 1000} s.` } }),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([readAll(graph, obj), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

async function readAll(graph: Graph, obj: Pick<DirectoryObject, 'id' | 'kind'>): Promise<AccountableRead> {
  const reads: { id: string; what: string; path: string; permission: string }[] = [];
  const sponsors = sponsorsPath(obj);
  const owners = ownersPath(obj);
  if (sponsors) {
    reads.push({ id: 's', what: `the sponsors of ${obj.id}`, path: sponsors, permission: SPONSORS_PERMISSION[obj.kind] ?? OWNERS_PERMISSION });
  }
  if (owners) {
    reads.push({ id: 'o', what: `the owners of ${obj.id}`, path: owners, permission: OWNERS_PERMISSION });
  }
  // First pages of both lists in one $batch round trip (throttled items are retried inside), then any further
  // pages and the groups' members one by one.
  let results: Awaited<ReturnType<typeof batch>>;
  try {
    results = await batch(graph, reads.map((r) => ({ id: r.id, method: 'GET' as const, url: `${r.path}?$select=id` })));
  } catch (err) {
    return { ok: false, failure: failureOf(reads.map((r) => r.what).join(' and '), reads[0]?.permission ?? OWNERS_PERMISSION, err) };
  }
  const ids = new Set<string>();
  const groups: string[] = [];
  for (const r of reads) {
    const result = results.get(r.id);
    if (!result || result.status >= 300) {
      const error = (result?.body as { error?: { code?: string; message?: string } } | undefined)?.error;
      const status = result?.status ?? 502;
      return { ok: false, failure: failureOf(r.what, r.permission, new UpstreamError({ service: 'Graph', httpStatus: status, upstreamCode: error?.code, transient: false, message: error?.message ?? `HTTP ${status}` })) };
    }
    let page = result.body as EntriesPage | undefined;
    try {
      for (;;) {
        for (const item of page?.value ?? []) {
          const id = typeof item.id === 'string' ? item.id.toLowerCase() : undefined;
          if (id !== undefined) {
            ids.add(id);
            if (item['@odata.type']?.toLowerCase() === '#microsoft.graph.group') {
              groups.push(id);
            }
          }
        }
        const next = page?.['@odata.nextLink'];
        if (!next) {
          break;
        }
        page = (await graph.next<EntriesPage>(next)).body;
      }
    } catch (err) {
      return { ok: false, failure: failureOf(r.what, r.permission, err) };
    }
  }
  for (const group of groups) {
    try {
      (await listTransitiveMembers(graph, group)).forEach((m) => ids.add(m));
    } catch (err) {
      return { ok: false, failure: failureOf(`the members of the group ${group} (a sponsor or owner of ${obj.id})`, GROUP_MEMBERS_PERMISSION, err) };
    }
  }
  return { ok: true, ids: [...ids] };
}

interface EntriesPage {
  value?: { id?: string; '@odata.type'?: string }[];
  '@odata.nextLink'?: string;
}

function failureOf(what: string, permission: string, err: unknown): AccountableReadFailure {
  const status = err instanceof UpstreamError ? err.httpStatus : undefined;
  const code = err instanceof UpstreamError ? err.upstreamCode : undefined;
  let message: string;
  if (status === 401 || status === 403) {
    message = `Microsoft Graph refused to list ${what} (${status}${code ? ` ${code}` : ''}): the responder's managed identity needs the application permission ${permission}.`;
  } else if (status === 429) {
    message = `Microsoft Graph throttled the read of ${what} (429) and kept throttling after retries. Try again in a few minutes.`;
  } else if (status !== undefined && status >= 500) {
    message = `Microsoft Graph could not list ${what} (${status}) after retries. Try again in a few minutes.`;
  } else if (status !== undefined) {
    message = `Microsoft Graph answered ${status}${code ? ` ${code}` : ''} when listing ${what}.`;
  } else {
    message = `Microsoft Graph could not be reached to list ${what}: ${ensureError(err).message}`;
  }
  return { what, status, code, permission, message };
}
