import type { Config } from '../config';
import type { Graph } from '../graph/graph-client';
import { checkMemberGroups } from '../graph/users';

/**
 * Whether the signed-in principal may decide approvals: listed in `APPROVERS` by object id, or a member of a
 * group listed there (checked through Graph, transitively). An empty `APPROVERS` allows nobody.
 */
export async function isAllowedApprover(deps: { config: Pick<Config, 'APPROVERS'>; graph: Graph }, principalId: string): Promise<boolean> {
  const approvers = deps.config.APPROVERS;
  if (approvers.length === 0) {
    return false;
  }
  if (approvers.includes(principalId)) {
    return true;
  }
  const groups = await checkMemberGroups(deps.graph, principalId, approvers);
  return groups.length > 0;
}
