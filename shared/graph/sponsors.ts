import type { Graph } from './graph-client';
import { batch, type BatchItem } from './batch';
import { ownersPath, sponsorsPath } from './service-principals';
import type { DirectoryObject } from './identity-kind';

export interface Accountable {
  sponsors: string[];
  owners: string[];
}

/**
 * Reads the sponsors and owners of many agents through `$batch` (20 requests a call) instead of two calls
 * per agent. Objects whose lists cannot be read come back with empty lists and an error entry.
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
    const ids = ((r.body as { value?: { id?: string }[] } | undefined)?.value ?? []).map((v) => String(v.id).toLowerCase());
    if (kind === 's') {
      entry.sponsors = ids;
    } else {
      entry.owners = ids;
    }
  }
  return { byId, errors };
}
