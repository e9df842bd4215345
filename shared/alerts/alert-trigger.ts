import { z } from 'zod';
import { caseInsensitiveObject } from './case-insensitive-object';
import { displayString, guidText, identifierText, resourceGroupName, severityField } from './field-schemas';
import { EntityList } from './sentinel-entity';
import { WorkspaceCustomerId } from './workspace-info';

/**
 * The "Microsoft Sentinel alert" trigger body: a SecurityAlert in PascalCase (any letter case is read)
 * `{ SystemAlertId, AlertDisplayName, Severity, WorkspaceId, WorkspaceSubscriptionId, WorkspaceResourceGroup,
 * Entities }`, where `Entities` holds flat entities as an array or as the JSON text of one. It carries no
 * incident id; `WorkspaceId` (the workspace's customer id) and `SystemAlertId` are what the alert is read
 * back from its workspace by.
 */
export const AlertTrigger = caseInsensitiveObject({
  SystemAlertId: identifierText,
  AlertDisplayName: displayString.optional(),
  Severity: severityField.optional(),
  WorkspaceId: WorkspaceCustomerId.optional(),
  WorkspaceSubscriptionId: guidText().optional(),
  WorkspaceResourceGroup: resourceGroupName.optional(),
  Entities: EntityList.optional(),
});
export type AlertTrigger = z.infer<typeof AlertTrigger>;
