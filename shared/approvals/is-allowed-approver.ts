import type { Config } from '../config';
import { UpstreamError } from '../errors';
import type { Graph } from '../graph/graph-client';
import { checkMemberGroups } from '../graph/users';

/** `checkMemberGroups` takes at most 20 group ids a call. */
const GROUP_IDS_PER_CALL = 20;

/**
 * Whether the signed-in principal may decide approvals: listed in `APPROVERS` by object id, or a member of a
 * group listed there (checked through Graph, transitively, at decision time so a removal takes effect at
 * once). An empty `APPROVERS` allows nobody; a principal Graph does not know as a user is not allowed.
 *
 * NOTE: `APPROVERS` mixes user and group ids and cannot tell them apart; `checkMemberGroups` returns only the
 * ids that are groups the user belongs to, so passing user ids there is harmless.
 * https://learn.microsoft.com/graph/api/directoryobject-checkmembergroups
 */
export async function isAllowedApprover(deps: { config: Pick<Config, 'APPROVERS'>; graph: Graph }, principalId: string): Promise<boolean> {
  const id = principalId.toLowerCase();
  const approvers = deps.config.APPROVERS;
  if (approvers.includes(id)) {
    return true;
  }
  const candidates = approvers.filter((a) => a !== id);
  for (let i = 0; i < candidates.length; i += GROUP_IDS_PER_CALL) {
    try {
      const groups = await checkMemberGroups(deps.graph, id, candidates.slice(i, i + GROUP_IDS_PER_CALL));
      if (groups.length > 0) {
        return true;
      }
    } catch (err) {
      if (err instanceof UpstreamError && err.httpStatus === 404) {
        return false; // not a user of this directory (e.g. a service principal or a deleted account)
      }
      throw err;
    }
  }
  return false;
}
