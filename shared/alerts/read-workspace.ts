import type { WorkspaceRef } from './alert-types';
import type { FieldReader } from './field-reader';
import { isGuid } from './is-guid';

/**
 * The incident trigger's `workspaceInfo { SubscriptionId, ResourceGroupName, WorkspaceName }`, checked
 * against the workspace in the incident ARM id when there is one: a body whose two descriptions of its own
 * workspace disagree is refused rather than trusted either way.
 */
export function readWorkspaceInfo(
  reader: FieldReader,
  body: Record<string, unknown>,
  fromArmId: WorkspaceRef | undefined,
): WorkspaceRef | undefined {
  const info = reader.record(body, '', ['workspaceInfo']);
  if (info === undefined) {
    return fromArmId;
  }
  const problemsBefore = reader.problems.length;
  const subscription = reader.get(info.value, info.path, ['SubscriptionId']);
  const subscriptionId = reader.string(info.value, info.path, ['SubscriptionId']);
  const resourceGroup = reader.string(info.value, info.path, ['ResourceGroupName', 'ResourceGroup']);
  const workspaceName = reader.string(info.value, info.path, ['WorkspaceName']);
  if (subscriptionId !== undefined && !isGuid(subscriptionId)) {
    reader.problem(subscription?.path ?? info.path, 'must be a GUID');
    return fromArmId;
  }
  if (reader.problems.length > problemsBefore || subscriptionId === undefined || resourceGroup === undefined) {
    return fromArmId;
  }
  const posted: WorkspaceRef = {
    subscriptionId: subscriptionId.toLowerCase(),
    resourceGroup,
    ...(workspaceName === undefined ? {} : { workspaceName }),
  };
  if (fromArmId !== undefined && !sameWorkspace(posted, fromArmId)) {
    reader.problem(info.path, 'does not match the workspace in the incident id');
    return fromArmId;
  }
  return fromArmId ?? posted;
}

/** Azure resource names compare case-insensitively. */
function sameWorkspace(a: WorkspaceRef, b: WorkspaceRef): boolean {
  const eq = (x: string | undefined, y: string | undefined): boolean =>
    x === undefined || y === undefined || x.toLowerCase() === y.toLowerCase();
  return eq(a.subscriptionId, b.subscriptionId) && eq(a.resourceGroup, b.resourceGroup) && eq(a.workspaceName, b.workspaceName);
}
