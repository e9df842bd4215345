import type { Graph, GraphResult } from './graph-client';
import { seg } from './graph-client';
import { toDirectoryObject, type DirectoryObject } from './identity-kind';
import { UpstreamError } from '../errors';

/** Finds a user or agent user by object id or UPN; `undefined` when there is none. */
export async function getUser(graph: Graph, idOrUpn: string): Promise<DirectoryObject | undefined> {
  try {
    const result = await graph.call<Record<string, unknown>>({
      method: 'GET',
      path: `/users/${seg(idOrUpn)}`,
      query: { $select: 'id,displayName,userPrincipalName,accountEnabled' },
    });
    return toDirectoryObject(result.body, '#microsoft.graph.user');
  } catch (err) {
    if (err instanceof UpstreamError && err.httpStatus === 404) {
      return undefined;
    }
    throw err;
  }
}

/**
 * Invalidates the user's refresh tokens and session cookies. Issued access tokens stay valid until they
 * expire (up to an hour), which is why disabling the agent comes first.
 */
export function revokeSignInSessions(graph: Graph, userId: string): Promise<GraphResult<unknown>> {
  return graph.call({ method: 'POST', path: `/users/${seg(userId)}/revokeSignInSessions` });
}

/** Which of `groupIds` the user belongs to (transitively). */
export async function checkMemberGroups(graph: Graph, userId: string, groupIds: readonly string[]): Promise<string[]> {
  if (groupIds.length === 0) {
    return [];
  }
  const result = await graph.call<{ value: string[] }>({
    method: 'POST',
    path: `/users/${seg(userId)}/checkMemberGroups`,
    body: { groupIds },
  });
  return (result.body?.value ?? []).map((id) => id.toLowerCase());
}
