import type { Graph, GraphResult } from './graph-client';
import type { DirectoryObject } from './identity-kind';
import { kindFacts } from './identity-kinds';
import { typedPath } from './service-principals';
import { NotFoundError } from '../errors';

/**
 * Deletes an agent identity, agent blueprint principal or classic service principal through its typed URL
 * (the least-privileged permission for each kind). Deleted objects are restorable for 30 days.
 */
export function deleteIdentity(graph: Graph, obj: Pick<DirectoryObject, 'id' | 'kind'>): Promise<GraphResult<unknown>> {
  if (!kindFacts(obj.kind).deletable) {
    return Promise.reject(new NotFoundError(`Object ${obj.id} (${obj.kind}) is not an identity the lifecycle sweep deletes`));
  }
  return graph.call({ method: 'DELETE', path: typedPath(obj) });
}
