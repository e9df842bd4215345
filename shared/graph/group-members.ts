import type { Graph } from './graph-client';
import { seg } from './graph-client';
import { listAll } from './list-pages';

/** Least-privileged application permission to list a group's transitive members (per Graph's docs). */
export const GROUP_MEMBERS_PERMISSION = 'GroupMember.Read.All';

/**
 * Object ids of every member of a group, nested groups flattened (`GET /groups/{id}/transitiveMembers`, every
 * page). Nested groups themselves are listed too; they are harmless wherever the ids are used as an exclusion.
 *
 * NOTE: https://learn.microsoft.com/graph/api/group-list-transitivemembers (GroupMember.Read.All)
 */
export async function listTransitiveMembers(graph: Graph, groupId: string): Promise<string[]> {
  const { items } = await listAll<{ id?: string }>(graph, { path: `/groups/${seg(groupId)}/transitiveMembers`, query: { $select: 'id' } });
  return items.flatMap((m) => (typeof m.id === 'string' ? [m.id.toLowerCase()] : []));
}
