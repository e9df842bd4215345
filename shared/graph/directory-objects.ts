import type { Graph } from './graph-client';
import { toDirectoryObject, type DirectoryObject } from './identity-kind';

/** `directoryObjects/getByIds` takes at most 1,000 ids a call. */
export const GET_BY_IDS_MAX = 1000;

/**
 * Resolves object ids to directory objects with their kind, in as few calls as possible (one per 1,000 ids).
 * Ids Graph does not know are absent from the result.
 * @example const { objects } = await getByIds(graph, ['…']);
 */
export async function getByIds(graph: Graph, ids: readonly string[]): Promise<{ objects: DirectoryObject[]; requestIds: string[] }> {
  const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
  const objects: DirectoryObject[] = [];
  const requestIds: string[] = [];
  for (let i = 0; i < unique.length; i += GET_BY_IDS_MAX) {
    const chunk = unique.slice(i, i + GET_BY_IDS_MAX);
    const result = await graph.call<{ value: Record<string, unknown>[] }>({
      method: 'POST',
      path: '/directoryObjects/getByIds',
      body: { ids: chunk },
    });
    if (result.requestId) {
      requestIds.push(result.requestId);
    }
    objects.push(...(result.body?.value ?? []).map((raw) => toDirectoryObject(raw)));
  }
  return { objects, requestIds };
}
