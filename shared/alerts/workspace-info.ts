import { z } from 'zod';
import { ValidationError } from '../errors';
import type { WorkspaceRef } from './alert-types';
import { caseInsensitiveObject } from './case-insensitive-object';
import { guidText, resourceGroupName, workspaceName } from './field-schemas';
import type { PostedBody } from './posted-body';

/** The incident and entity triggers' `workspaceInfo { SubscriptionId, ResourceGroupName, WorkspaceName }`. */
export const WorkspaceInfo = caseInsensitiveObject({
  SubscriptionId: guidText().optional(),
  ResourceGroupName: resourceGroupName.optional(),
  /** Some playbooks write `ResourceGroup`; read when `ResourceGroupName` is absent. */
  ResourceGroup: resourceGroupName.optional(),
  WorkspaceName: workspaceName.optional(),
});
export type WorkspaceInfo = z.infer<typeof WorkspaceInfo>;

/**
 * The Log Analytics workspace's customer id (`workspaceId` / `WorkspaceId`), the GUID its query API is
 * addressed by (`https://api.loganalytics.io/v1/workspaces/{id}/query`); given back lower-cased.
 */
export const WorkspaceCustomerId = guidText('must be a GUID (the Log Analytics workspace id)');

/** The workspace `workspaceInfo` describes, when it names at least a subscription and a resource group. */
export function postedWorkspace(info: WorkspaceInfo | undefined): WorkspaceRef | undefined {
  const resourceGroup = info?.ResourceGroupName ?? info?.ResourceGroup;
  if (info?.SubscriptionId === undefined || resourceGroup === undefined) {
    return undefined;
  }
  return {
    subscriptionId: info.SubscriptionId,
    resourceGroup,
    ...(info.WorkspaceName === undefined ? {} : { workspaceName: info.WorkspaceName }),
  };
}

/** Whether two descriptions of a workspace agree; a part either leaves out is not compared; Azure names ignore case. */
function sameWorkspace(a: WorkspaceRef, b: WorkspaceRef): boolean {
  const eq = (x: string | undefined, y: string | undefined): boolean =>
    x === undefined || y === undefined || x.toLowerCase() === y.toLowerCase();
  return eq(a.subscriptionId, b.subscriptionId) && eq(a.resourceGroup, b.resourceGroup) && eq(a.workspaceName, b.workspaceName);
}

/**
 * Refuses a body whose `workspaceInfo` disagrees with the workspace in its incident id (a body whose two
 * descriptions of its own workspace disagree is trusted neither way), naming `workspaceInfo` as posted.
 */
export function assertWorkspaceAgrees(info: WorkspaceInfo | undefined, fromIncidentId: WorkspaceRef, posted: PostedBody, message: string): void {
  const named = postedWorkspace(info);
  if (named !== undefined && !sameWorkspace(named, fromIncidentId)) {
    throw new ValidationError(message, [{ field: posted.path(['workspaceInfo']), message: 'does not match the workspace in the incident id' }]);
  }
}
