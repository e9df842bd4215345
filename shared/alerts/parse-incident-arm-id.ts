import type { WorkspaceRef } from './alert-types';

/**
 * A Sentinel incident's ARM id. Resource-group names allow letters, digits, `-_.()`; workspace names
 * letters, digits and `-`; the incident name is a GUID in practice but any `[-\w]` name is accepted.
 * Checking the shape here means no caller ever builds an ARM URL from a path with `..`, `?` or `#` in it.
 */
const INCIDENT_ARM_ID =
  /^\/subscriptions\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/resourceGroups\/([-\w.()\p{L}\p{N}]{1,90})\/providers\/Microsoft\.OperationalInsights\/workspaces\/([-\w]{1,63})\/providers\/Microsoft\.SecurityInsights\/incidents\/([-\w]{1,128})$/iu;

/** The parts of an incident ARM id. */
export interface IncidentArmIdParts {
  workspace: Required<WorkspaceRef>;
  incidentName: string;
}

/**
 * Splits an incident ARM id into workspace and incident name, or returns undefined when `id` is not one.
 *
 * @example
 * parseIncidentArmId('/subscriptions/1111…/resourceGroups/soc-rg/providers/Microsoft.OperationalInsights/workspaces/soc-ws/providers/Microsoft.SecurityInsights/incidents/8f1c…');
 * // { workspace: { subscriptionId: '1111…', resourceGroup: 'soc-rg', workspaceName: 'soc-ws' }, incidentName: '8f1c…' }
 */
export function parseIncidentArmId(id: string): IncidentArmIdParts | undefined {
  const m = INCIDENT_ARM_ID.exec(id);
  if (m === null) {
    return undefined;
  }
  const [, subscriptionId = '', resourceGroup = '', workspaceName = '', incidentName = ''] = m;
  if (resourceGroup.endsWith('.')) {
    return undefined; // Azure forbids a trailing period in resource-group names
  }
  return { workspace: { subscriptionId: subscriptionId.toLowerCase(), resourceGroup, workspaceName }, incidentName };
}
