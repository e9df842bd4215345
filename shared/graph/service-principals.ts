import type { Graph, GraphResult } from './graph-client';
import { seg } from './graph-client';
import { toDirectoryObject, type DirectoryObject, type IdentityKind } from './identity-kind';
import { kindFacts } from './identity-kinds';
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

/** The URL that addresses an object through its own type (see the kind table). */
export function typedPath(obj: Pick<DirectoryObject, 'id' | 'kind'>): string {
  const path = kindFacts(obj.kind).path;
  if (!path) {
    throw new NotFoundError(`Object ${obj.id} is not an identity the responders can act on`);
  }
  return path(obj.id);
}

/** Kinds whose access is cut by `accountEnabled: false` (DESIGN.md, containment table). */
export function canDisable(kind: IdentityKind): boolean {
  return kindFacts(kind).cut === 'disable';
}

/** Enables or disables a service principal, agent identity or blueprint principal through its typed URL. */
export function setAccountEnabled(graph: Graph, obj: Pick<DirectoryObject, 'id' | 'kind'>, enabled: boolean): Promise<GraphResult<unknown>> {
  return graph.call({ method: 'PATCH', path: typedPath(obj), body: { accountEnabled: enabled } });
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

/** Path of the sponsors collection of an agent object (agent identities, blueprint principals, agent users). */
export function sponsorsPath(obj: Pick<DirectoryObject, 'id' | 'kind'>): string | undefined {
  return kindFacts(obj.kind).sponsors?.(obj.id);
}

/** Path of the owners collection of a service principal of any kind. */
export function ownersPath(obj: Pick<DirectoryObject, 'id' | 'kind'>): string | undefined {
  return kindFacts(obj.kind).owners?.(obj.id);
}
