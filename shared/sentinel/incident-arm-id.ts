/** A Sentinel incident's ARM id, split. */
export interface IncidentArmId {
  /** Lower-case GUID. */
  subscriptionId: string;
  resourceGroup: string;
  workspaceName: string;
  incidentId: string;
  /** The workspace part, as intake and settings name workspaces. */
  workspace: { subscriptionId: string; resourceGroup: string; workspaceName: string };
}

/**
 * Resource-group names allow letters, digits, `-_.()`; workspace names letters, digits and `-`; the
 * incident name is a GUID in practice but any `[-\w]` name is accepted. Checking the shape here means no
 * caller ever builds an ARM URL from a path with `..`, `?` or `#` in it.
 */
const INCIDENT_ARM_ID =
  /^\/subscriptions\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/resourceGroups\/([-\w.()\p{L}\p{N}]{1,90})\/providers\/Microsoft\.OperationalInsights\/workspaces\/([-\w]{1,63})\/providers\/Microsoft\.SecurityInsights\/incidents\/([-\w]{1,128})$/iu;

/**
 * Parses a Sentinel incident ARM id (`object.id` of the incident trigger); undefined when it is not one.
 *
 * @example
 * parseIncidentArmId('/subscriptions/1111…/resourceGroups/soc-rg/providers/Microsoft.OperationalInsights/workspaces/soc-ws/providers/Microsoft.SecurityInsights/incidents/8f1c…');
 * // { subscriptionId: '1111…', resourceGroup: 'soc-rg', workspaceName: 'soc-ws', incidentId: '8f1c…', workspace: {…} }
 */
export function parseIncidentArmId(id: string): IncidentArmId | undefined {
  const m = INCIDENT_ARM_ID.exec(id.trim());
  if (m === null) {
    return undefined;
  }
  const [, sub = '', resourceGroup = '', workspaceName = '', incidentId = ''] = m;
  if (resourceGroup.endsWith('.')) {
    return undefined; // Azure forbids a trailing period in resource-group names
  }
  const subscriptionId = sub.toLowerCase();
  return { subscriptionId, resourceGroup, workspaceName, incidentId, workspace: { subscriptionId, resourceGroup, workspaceName } };
}

/** `subscription/resourceGroup/workspace`, lower-cased: how workspaces are named in settings. */
export function workspaceKey(ws: { subscriptionId: string; resourceGroup: string; workspaceName?: string | undefined }): string {
  return `${ws.subscriptionId}/${ws.resourceGroup}/${ws.workspaceName ?? ''}`.toLowerCase();
}
