import type { Graph, GraphResult } from './graph-client';
import { seg } from './graph-client';
import { toDirectoryObject, type DirectoryObject, type IdentityKind } from './identity-kind';
import { NotFoundError, UpstreamError } from '../errors';

const SP_SELECT = 'id,appId,displayName,accountEnabled,appOwnerOrganizationId,servicePrincipalType,tags';

/** Finds a service principal by its application (client) id; `undefined` when the tenant has none. */
export async function getServicePrincipalByAppId(graph: Graph, appId: string): Promise<DirectoryObject | undefined> {
  try {
    const result = await graph.call<Record<string, unknown>>({
      method: 'GET',
      path: `/servicePrincipals(appId='${seg(appId)}')`,
      query: { $select: SP_SELECT },
    });
    return toDirectoryObject(result.body, '#microsoft.graph.servicePrincipal');
  } catch (err) {
    if (err instanceof UpstreamError && err.httpStatus === 404) {
      return undefined;
    }
    throw err;
  }
}

/**
 * The URL that addresses an object through its own type, so Graph applies that type's rules and the
 * least-privileged permission for it (e.g. `AgentIdentity.EnableDisable.All` rather than
 * `Application.ReadWrite.All` for an agent identity).
 */
export function typedPath(obj: Pick<DirectoryObject, 'id' | 'kind'>): string {
  const id = seg(obj.id);
  switch (obj.kind) {
    case 'agentIdentity':
      return `/servicePrincipals/${id}/microsoft.graph.agentIdentity`;
    case 'agentBlueprintPrincipal':
      return `/servicePrincipals/${id}/microsoft.graph.agentIdentityBlueprintPrincipal`;
    case 'servicePrincipal':
      return `/servicePrincipals/${id}`;
    case 'agentUser':
      return `/users/${id}/microsoft.graph.agentUser`;
    case 'user':
      return `/users/${id}`;
    case 'other':
      throw new NotFoundError(`Object ${obj.id} is not an identity the responders can act on`);
  }
}

/** Kinds whose access is cut by `accountEnabled: false` (DESIGN.md, containment table). */
export function canDisable(kind: IdentityKind): boolean {
  return kind === 'agentIdentity' || kind === 'agentBlueprintPrincipal' || kind === 'servicePrincipal';
}

/** Enables or disables a service principal, agent identity or blueprint principal through its typed URL. */
export function setAccountEnabled(graph: Graph, obj: Pick<DirectoryObject, 'id' | 'kind'>, enabled: boolean): Promise<GraphResult<unknown>> {
  return graph.call({ method: 'PATCH', path: typedPath(obj), body: { accountEnabled: enabled } });
}

/** Deletes an agent identity (restorable for 30 days). */
export function deleteAgentIdentity(graph: Graph, id: string): Promise<GraphResult<unknown>> {
  return graph.call({ method: 'DELETE', path: `/servicePrincipals/${seg(id)}/microsoft.graph.agentIdentity` });
}

/** Reads the current `accountEnabled` of a service principal of any kind; `undefined` when it is gone. */
export async function readAccountEnabled(graph: Graph, id: string): Promise<boolean | undefined> {
  try {
    const result = await graph.call<{ accountEnabled?: boolean }>({
      method: 'GET',
      path: `/servicePrincipals/${seg(id)}`,
      query: { $select: 'id,accountEnabled' },
    });
    return result.body.accountEnabled;
  } catch (err) {
    if (err instanceof UpstreamError && err.httpStatus === 404) {
      return undefined;
    }
    throw err;
  }
}

/** Path of the sponsors collection for an agent object (agent identities, blueprint principals, agent users). */
export function sponsorsPath(obj: Pick<DirectoryObject, 'id' | 'kind'>): string | undefined {
  switch (obj.kind) {
    case 'agentIdentity':
    case 'agentBlueprintPrincipal':
      return `${typedPath(obj)}/sponsors`;
    case 'agentUser':
    case 'user':
      return `/users/${seg(obj.id)}/sponsors`;
    default:
      return undefined;
  }
}

/** Path of the owners collection of a service principal of any kind. */
export function ownersPath(obj: Pick<DirectoryObject, 'id' | 'kind'>): string | undefined {
  switch (obj.kind) {
    case 'agentIdentity':
    case 'servicePrincipal':
    case 'agentBlueprintPrincipal':
      return `/servicePrincipals/${seg(obj.id)}/owners`;
    default:
      return undefined;
  }
}
