import type { Graph } from '../graph/graph-client';
import { getByIds } from '../graph/directory-objects';

/** Sponsors are few people sponsoring many agents: remember this many addresses across pages. */
const MAX_CACHED = 5_000;

/**
 * Mail addresses of sponsors and owners, resolved through `directoryObjects/getByIds` (one call for up to
 * 1,000 ids) and cached for the sweep, so warning a page of agents costs at most one lookup.
 * Groups and service principals have no mailbox and resolve to nothing.
 */
export class AddressBook {
  private readonly cache = new Map<string, string | null>();

  constructor(private readonly graph: Graph) {}

  /** Looks up every id not seen yet, in one call per 1,000. */
  async load(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set([...ids].map((id) => id.toLowerCase()))].filter((id) => !this.cache.has(id));
    if (missing.length === 0) {
      return;
    }
    if (this.cache.size + missing.length > MAX_CACHED) {
      this.cache.clear();
    }
    const { objects } = await getByIds(this.graph, missing);
    const found = new Map(objects.map((o) => [o.id, o]));
    for (const id of missing) {
      const obj = found.get(id);
      const mailbox = obj && (obj.kind === 'user' || obj.kind === 'agentUser') ? obj.userPrincipalName : undefined;
      this.cache.set(id, mailbox ?? null);
    }
  }

  /** Whether every one of `ids` was looked up (a failed {@link load} leaves them unknown). */
  knows(ids: Iterable<string>): boolean {
    for (const id of ids) {
      if (!this.cache.has(id.toLowerCase())) {
        return false;
      }
    }
    return true;
  }

  /** Addresses of `ids`, after {@link load}; unknown ids and objects without a mailbox are left out. */
  addresses(ids: Iterable<string>): string[] {
    const out = new Set<string>();
    for (const id of ids) {
      const address = this.cache.get(id.toLowerCase());
      if (address) {
        out.add(address);
      }
    }
    return [...out];
  }
}
