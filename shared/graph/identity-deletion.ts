import type { Graph, GraphResult } from './graph-client';
import type { DirectoryObject } from './identity-kind';
import { deleteAgentIdentity, typedPath } from './service-principals';
import { NotFoundError } from '../errors';

/**
 * Deletes an agent identity, agent blueprint principal or classic service principal through its typed URL
 * (the least-privileged permission for each kind). Deleted objects are restorable for 30 days.
 */
export function deleteIdentity(graph: Graph, obj: Pick<DirectoryObject, 'id' | 'kind'>): Promise<GraphResult<unknown>> {
  switch (obj.kind) {
    case 'agentIdentity':
      return deleteAgentIdentity(graph, obj.id);
    case 'agentBlueprintPrincipal':
    case 'servicePrincipal':
      return graph.call({ method: 'DELETE', path: typedPath(obj) });
    default:
      return Promise.reject(new NotFoundError(`Object ${obj.id} (${obj.kind}) is not an identity the lifecycle sweep deletes`));
  }
}
