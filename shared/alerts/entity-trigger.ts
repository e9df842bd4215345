import { z } from 'zod';
import { caseInsensitiveObject, objectTypeMessage } from './case-insensitive-object';
import { incidentArmIdField, severityField, text } from './field-schemas';
import { SentinelEntity } from './sentinel-entity';
import { postedWorkspace, sameWorkspace, WORKSPACE_MISMATCH, WorkspaceInfo } from './workspace-info';

/**
 * The "Microsoft Sentinel entity" trigger body: `{ Entity: { properties: { Name, UPNSuffix, AadUserId, … } },
 * IncidentArmID: <incident ARM id> | null }`, in any letter case. Unlike an entity in a list, `Entity` must be
 * an object: it is the whole point of the body.
 */
export const EntityTrigger = caseInsensitiveObject({
  Entity: SentinelEntity.superRefine((entity, ctx) => {
    if (entity === undefined || 'notAnObject' in entity) {
      ctx.addIssue({ code: 'custom', message: objectTypeMessage(entity?.posted) });
    }
  }),
  IncidentArmID: incidentArmIdField(text, 'must be a Microsoft Sentinel incident ARM id, or null').optional(),
  Severity: severityField.optional(),
  workspaceInfo: WorkspaceInfo.optional(),
}).superRefine((t, ctx) => {
  const posted = postedWorkspace(t.workspaceInfo);
  if (posted !== undefined && t.IncidentArmID !== undefined && !sameWorkspace(posted, t.IncidentArmID.arm.workspace)) {
    ctx.addIssue({ code: 'custom', path: ['workspaceInfo'], message: WORKSPACE_MISMATCH });
  }
});
export type EntityTrigger = z.infer<typeof EntityTrigger>;
