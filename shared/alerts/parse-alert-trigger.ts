import type { ParsedAlert, WorkspaceRef } from './alert-types';
import { AlertTrigger } from './alert-trigger';
import { collectOutcomes } from './collect-targets';
import { classifyEntities } from './entity-to-target';
import { parseOrThrow } from './issues-to-fields';
import { PostedBody } from './posted-body';

/**
 * Reads a "Microsoft Sentinel alert" trigger body with the {@link AlertTrigger} schema. The body carries no
 * incident id; it keeps the workspace's customer id (`WorkspaceId`) so the alert can be read back from its
 * workspace by `SystemAlertId`. Throws a `ValidationError` naming every bad field as posted.
 */
export function parseAlertTrigger(body: Record<string, unknown>): ParsedAlert {
  const posted = new PostedBody(body);
  const alert = parseOrThrow(AlertTrigger, body, posted, 'The alert trigger body is invalid.');
  const { targets, rejected, rejectedOmitted } = collectOutcomes(classifyEntities(alert.Entities ?? [], posted.path(['Entities'])));
  const workspace = alertWorkspace(alert);
  const title = alert.AlertDisplayName;
  return {
    source: 'alert',
    dedupeKey: `alert:${alert.SystemAlertId.trim().toLowerCase()}`,
    alertId: alert.SystemAlertId,
    ...(workspace === undefined ? {} : { workspace }),
    title: title !== undefined && title.trim() !== '' ? title : `Sentinel alert ${alert.SystemAlertId}`,
    severity: alert.Severity ?? 'Medium',
    ...(alert.Severity === undefined ? { severityDefaulted: true as const } : {}),
    targets,
    rejected,
    ...(rejectedOmitted === 0 ? {} : { rejectedOmitted }),
  };
}

/** `WorkspaceSubscriptionId` + `WorkspaceResourceGroup` (+ `WorkspaceId`); the alert names no workspace by name. */
function alertWorkspace(alert: AlertTrigger): WorkspaceRef | undefined {
  const resourceGroup = alert.WorkspaceResourceGroup;
  if (alert.WorkspaceSubscriptionId === undefined || resourceGroup === undefined) {
    return undefined;
  }
  return {
    subscriptionId: alert.WorkspaceSubscriptionId,
    resourceGroup,
    ...(alert.WorkspaceId === undefined ? {} : { customerId: alert.WorkspaceId }),
  };
}
