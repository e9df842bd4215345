import type { Config } from '../config';
import type { Graph } from '../graph/graph-client';
import { isAllowedApprover } from '../approvals/is-allowed-approver';

/**
 * Whether a signed-in principal may read the case pages: listed in `APPROVERS` or `CASE_VIEWERS` by object id,
 * or a member of a group listed there (checked through Graph at each request, so a removal takes effect at once).
 * Both lists empty allows nobody.
 *
 * @throws UpstreamError when Graph cannot answer: an unanswered membership check is not a "no".
 */
export function isAllowedCaseViewer(deps: { config: Pick<Config, 'APPROVERS' | 'CASE_VIEWERS'>; graph: Graph }, principalId: string): Promise<boolean> {
  const allowed = [...new Set([...deps.config.APPROVERS, ...deps.config.CASE_VIEWERS])];
  return isAllowedApprover({ config: { APPROVERS: allowed }, graph: deps.graph }, principalId);
}
