import type { ParsedAlert, WorkspaceRef } from './alert-types';
import { collectOutcomes } from './collect-targets';
import type { FieldReader } from './field-reader';
import { isGuid } from './is-guid';
import { normalizeSeverity } from './normalize-severity';
import { newEntityBudget, readEntityList } from './read-entity-list';

/**
 * The "Microsoft Sentinel alert" trigger body: a PascalCase SecurityAlert (`SystemAlertId`,
 * `AlertDisplayName`, `Severity`, `WorkspaceSubscriptionId`, `WorkspaceResourceGroup`, `Entities`).
 * `Entities` holds flat entities (`{ Type: 'account', Name, UPNSuffix, AadUserId }`) as an array or as the
 * JSON text of one. This body carries no incident id. Problems are recorded on `reader`.
 */
export function parseAlertTrigger(reader: FieldReader, body: Record<string, unknown>): ParsedAlert | undefined {
  const alertId = reader.string(body, '', ['SystemAlertId'], true);
  const title = reader.string(body, '', ['AlertDisplayName']);
  const severity = normalizeSeverity(reader.get(body, '', ['Severity'])?.value);
  const workspace = readAlertWorkspace(reader, body);
  // The JSON text of a long entity list legitimately exceeds the per-field string limit.
  const entities = reader.get(body, '', ['Entities'], Number.MAX_SAFE_INTEGER);
  const { targets, rejected } = collectOutcomes(readEntityList(reader, entities, newEntityBudget()));

  if (alertId === undefined) {
    return undefined;
  }
  return {
    source: 'alert',
    dedupeKey: `alert:${alertId.trim().toLowerCase()}`,
    alertId,
    ...(workspace === undefined ? {} : { workspace }),
    title: title !== undefined && title.trim() !== '' ? title : `Sentinel alert ${alertId}`,
    severity,
    targets,
    rejected,
  };
}

/** `WorkspaceSubscriptionId` + `WorkspaceResourceGroup`; the alert names no workspace by name. */
function readAlertWorkspace(reader: FieldReader, body: Record<string, unknown>): WorkspaceRef | undefined {
  const subscription = reader.get(body, '', ['WorkspaceSubscriptionId']);
  const subscriptionId = reader.string(body, '', ['WorkspaceSubscriptionId']);
  const resourceGroup = reader.string(body, '', ['WorkspaceResourceGroup']);
  if (subscriptionId === undefined) {
    return undefined;
  }
  if (!isGuid(subscriptionId)) {
    reader.problem(subscription?.path ?? 'WorkspaceSubscriptionId', 'must be a GUID');
    return undefined;
  }
  if (resourceGroup === undefined || resourceGroup.trim() === '') {
    return undefined;
  }
  return { subscriptionId: subscriptionId.toLowerCase(), resourceGroup };
}
