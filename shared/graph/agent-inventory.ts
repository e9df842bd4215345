import type { Graph } from './graph-client';
import { toDirectoryObject, type DirectoryObject } from './identity-kind';

/**
 * Where agents come from, read in this order: Entra Agent ID agent identities, agent blueprint principals,
 * and classic service principals marked as agents by a tag.
 */
export type InventorySource = 'agentIdentity' | 'blueprintPrincipal' | 'taggedServicePrincipal';

const ORDER: readonly InventorySource[] = ['agentIdentity', 'blueprintPrincipal', 'taggedServicePrincipal'];

const PATHS: Record<InventorySource, string> = {
  agentIdentity: '/servicePrincipals/microsoft.graph.agentIdentity',
  blueprintPrincipal: '/servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal',
  taggedServicePrincipal: '/servicePrincipals',
};

const FALLBACK_TYPE: Record<InventorySource, string> = {
  agentIdentity: '#microsoft.graph.agentIdentity',
  blueprintPrincipal: '#microsoft.graph.agentIdentityBlueprintPrincipal',
  taggedServicePrincipal: '#microsoft.graph.servicePrincipal',
};

/** Graph's page size for agent identities is at most 100 (api-facts.md); the other lists use the same. */
export const INVENTORY_PAGE_SIZE = 100;

/** Where the inventory stands: the next page of `source` (its first page when `nextLink` is absent). */
export interface InventoryCursor {
  source: InventorySource;
  nextLink?: string;
}

export const FIRST_INVENTORY_PAGE: InventoryCursor = { source: 'agentIdentity' };

/** An agent with only what the lifecycle rules read. */
export interface InventoryAgent extends DirectoryObject {
  /** Attribute sets and values, present only when they were selected and the caller may read them. */
  customSecurityAttributes?: Record<string, unknown>;
}

export interface InventoryPage {
  agents: InventoryAgent[];
  /** The page after this one; undefined after the last page of the last source. */
  next: InventoryCursor | undefined;
}

export interface InventoryOptions {
  /** Tag that marks a classic service principal as an agent (`LIFECYCLE_AGENT_TAG`). */
  agentTag: string;
  /** Read custom security attributes too (only when an end-of-life attribute is configured). */
  withAttributes: boolean;
}

/** True for the GET of an inventory list (its first page), so request counters can tell pages apart. */
export function isInventoryPath(path: string): boolean {
  return Object.values(PATHS).includes(path);
}

function selectFor(source: InventorySource, withAttributes: boolean): string {
  const fields = ['id', 'displayName', 'appId', 'accountEnabled', 'tags', 'appOwnerOrganizationId'];
  if (source === 'agentIdentity') {
    fields.push('agentIdentityBlueprintId');
  }
  // NOTE: custom security attributes are returned only when selected explicitly
  // (learn.microsoft.com/graph/api/serviceprincipal-get, "customSecurityAttributes").
  if (withAttributes) {
    fields.push('customSecurityAttributes');
  }
  return fields.join(',');
}

/** An OData string literal: single quotes are doubled. */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Reads one page (at most 100 objects) of the agent inventory at `cursor` and says where the next page is.
 * Only one page is ever held, so a sweep of 100,000 agents streams through memory; the cursor is plain
 * data, so a sweep can checkpoint it and resume in another invocation.
 * @example
 * let cursor: InventoryCursor | undefined = FIRST_INVENTORY_PAGE;
 * while (cursor) { const page = await fetchInventoryPage(graph, cursor, opts); cursor = page.next; }
 */
export async function fetchInventoryPage(graph: Graph, cursor: InventoryCursor, opts: InventoryOptions): Promise<InventoryPage> {
  const { source } = cursor;
  const query: Record<string, string> = { $select: selectFor(source, opts.withAttributes), $top: String(INVENTORY_PAGE_SIZE) };
  if (source === 'taggedServicePrincipal') {
    query.$filter = `tags/any(t:t eq ${literal(opts.agentTag)})`;
  }
  const result = cursor.nextLink
    ? await graph.next<{ value?: Record<string, unknown>[]; '@odata.nextLink'?: string }>(cursor.nextLink)
    : await graph.call<{ value?: Record<string, unknown>[]; '@odata.nextLink'?: string }>({ method: 'GET', path: PATHS[source], query });
  const agents: InventoryAgent[] = [];
  for (const raw of result.body?.value ?? []) {
    const agent: InventoryAgent = toDirectoryObject(raw, FALLBACK_TYPE[source]);
    // The tag query lists every service principal kind; agent identities and blueprint principals carrying
    // the tag were already read from their own lists.
    if (source === 'taggedServicePrincipal' && agent.kind !== 'servicePrincipal') {
      continue;
    }
    const csa = raw['customSecurityAttributes'];
    if (csa !== null && typeof csa === 'object' && !Array.isArray(csa)) {
      agent.customSecurityAttributes = csa as Record<string, unknown>;
    }
    agents.push(agent);
  }
  const nextLink = result.body?.['@odata.nextLink'];
  const following = ORDER[ORDER.indexOf(source) + 1];
  const next: InventoryCursor | undefined = nextLink ? { source, nextLink } : following ? { source: following } : undefined;
  return { agents, next };
}
