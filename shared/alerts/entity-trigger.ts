import { z } from 'zod';
import { caseInsensitiveObject, objectTypeMessage } from './case-insensitive-object';
import { incidentArmIdField, severityField, text } from './field-schemas';
import { SentinelEntity } from './sentinel-entity';
import { isRecord } from './json-value';
import { WorkspaceInfo } from './workspace-info';

/**
 * The "Microsoft Sentinel entity" trigger body: `{ Entity: { properties: { Name, UPNSuffix, AadUserId, … } },
 * IncidentArmID: <incident ARM id> | null }`, in any letter case. Unlike an entity in a list, `Entity` must be
 * an object: it is the whole point of the body. `parseEntityTrigger` checks that `workspaceInfo` agrees
 * with the incident id.
 */
export const EntityTrigger = caseInsensitiveObject({
  Entity: z
    .unknown()
    .superRefine((entity, ctx) => {
      if (!isRecord(entity)) {
        ctx.addIssue({ code: 'custom', message: objectTypeMessage(entity) });
      }
    })
    .pipe(SentinelEntity),
  IncidentArmID: incidentArmIdField(text, 'must be a Microsoft Sentinel incident ARM id, or null').optional(),
  Severity: severityField.optional(),
  workspaceInfo: WorkspaceInfo.optional(),
});
export type EntityTrigger = z.infer<typeof EntityTrigger>;
