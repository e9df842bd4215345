import { ValidationError } from '../errors';

export interface IncidentArmId {
  subscriptionId: string;
  resourceGroup: string;
  workspaceName: string;
  incidentId: string;
}

const ARM_ID =
  /^\/subscriptions\/([0-9a-f-]{36})\/resourceGroups\/([^/]+)\/providers\/Microsoft\.OperationalInsights\/workspaces\/([^/]+)\/providers\/Microsoft\.SecurityInsights\/incidents\/([^/?#]+)$/i;

/** Parses a Sentinel incident ARM id (`object.id` of the incident trigger); undefined when it is not one. */
export function parseIncidentArmId(id: string): IncidentArmId | undefined {
  const m = ARM_ID.exec(id.trim());
  if (!m || !m[1] || !m[2] || !m[3] || !m[4]) {
    return undefined;
  }
  return { subscriptionId: m[1].toLowerCase(), resourceGroup: m[2], workspaceName: m[3], incidentId: m[4] };
}

export function assertIncidentArmId(id: string, field = 'incidentArmId'): IncidentArmId {
  const parsed = parseIncidentArmId(id);
  if (!parsed) {
    throw new ValidationError('Not a Sentinel incident ARM id', [{ field, message: 'expected /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}/providers/Microsoft.SecurityInsights/incidents/{id}' }]);
  }
  return parsed;
}

/** `subscription/resourceGroup/workspace`, lower-cased: how workspaces are named in settings. */
export function workspaceKey(ws: { subscriptionId: string; resourceGroup: string; workspaceName?: string | undefined }): string {
  return `${ws.subscriptionId}/${ws.resourceGroup}/${ws.workspaceName ?? ''}`.toLowerCase();
}
