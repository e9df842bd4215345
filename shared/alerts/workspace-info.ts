import { z } from 'zod';
import type { WorkspaceRef } from './alert-types';
import { caseInsensitiveObject } from './case-insensitive-object';
import { guidText, resourceGroupName, workspaceName } from './field-schemas';

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

/**
 * Whether a body's two descriptions of its own workspace agree (a part either one leaves out is not
 * compared): a body whose `workspaceInfo` disagrees with its incident id is refused rather than trusted
 * either way. Azure resource names compare case-insensitively.
 */
export function sameWorkspace(a: WorkspaceRef, b: WorkspaceRef): boolean {
  const eq = (x: string | undefined, y: string | undefined): boolean =>
    x === undefined || y === undefined || x.toLowerCase() === y.toLowerCase();
  return eq(a.subscriptionId, b.subscriptionId) && eq(a.resourceGroup, b.resourceGroup) && eq(a.workspaceName, b.workspaceName);
}

/** The problem for `workspaceInfo` when it disagrees with the workspace in the incident id. */
export const WORKSPACE_MISMATCH = 'does not match the workspace in the incident id';
