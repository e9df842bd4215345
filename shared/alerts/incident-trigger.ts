import { z } from 'zod';
import { caseInsensitiveObject } from './case-insensitive-object';
import { displayString, httpsUrl, incidentArmIdField, jsonArray, requiredText, severityField, text } from './field-schemas';
import { EntityList, type SentinelEntity } from './sentinel-entity';
import { WorkspaceCustomerId, WorkspaceInfo } from './workspace-info';

/** `Create` / `Update` in any case; any other value reads as not given (it only tunes how a repeat is handled). */
const EventType = text.transform((value): 'Create' | 'Update' | undefined => {
  switch (value.trim().toLowerCase()) {
    case 'create':
      return 'Create';
    case 'update':
      return 'Update';
    default:
      return undefined;
  }
});

/** A non-negative integer, or the text of one (some playbooks stringify numbers). */
const IncidentNumber = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d{1,15}\s*$/.test(v) ? Number(v) : v),
  z.number({ error: 'must be a non-negative integer' }).refine((n) => Number.isSafeInteger(n) && n >= 0, 'must be a non-negative integer'),
);

/** One of the incident's alerts; only its entities are read (`properties.entities`, or `relatedEntities`). */
export const IncidentAlert = caseInsensitiveObject({
  properties: caseInsensitiveObject({
    entities: EntityList.optional(),
    relatedEntities: EntityList.optional(),
  }).optional(),
});
export type IncidentAlert = z.infer<typeof IncidentAlert>;

/** Where an alert's entities are, if it has any: `entities` first, as it is what playbooks send. */
export function alertEntities(alert: IncidentAlert): { key: 'entities' | 'relatedEntities'; list: SentinelEntity[] } | undefined {
  const props = alert.properties;
  if (props?.entities !== undefined) {
    return { key: 'entities', list: props.entities };
  }
  if (props?.relatedEntities !== undefined) {
    return { key: 'relatedEntities', list: props.relatedEntities };
  }
  return undefined;
}

/** The incident's `properties`: what is shown, and every entity list it carries. */
export const IncidentProperties = caseInsensitiveObject({
  title: displayString.optional(),
  severity: severityField.optional(),
  /** `New` | `Active` | `Closed`, as posted. */
  status: displayString.optional(),
  incidentNumber: IncidentNumber.optional(),
  incidentUrl: httpsUrl.optional(),
  relatedEntities: EntityList.optional(),
  alerts: jsonArray(IncidentAlert).optional(),
});
export type IncidentProperties = z.infer<typeof IncidentProperties>;

/**
 * The "Microsoft Sentinel incident" trigger body (reference/sentinel/payloads.md), in any letter case:
 * `{ objectSchemaType: 'Incident', objectEventType: 'Create' | 'Update', workspaceInfo, workspaceId,
 * object: { id: <incident ARM id>, properties: { title, severity, status, incidentNumber, incidentUrl,
 * relatedEntities[], alerts[] } } }`.
 *
 * What relates one field to another (`workspaceInfo` names the workspace of the incident id; the entity limit
 * counts every list) is checked by `parseIncidentTrigger` on the parsed value: zod runs an object's
 * refinements even after a field's own refinement failed, on the field's unparsed value.
 */
export const IncidentTrigger = caseInsensitiveObject({
  objectSchemaType: text
    .refine((s) => s.toLowerCase() === 'incident', 'must be Incident: only incident trigger bodies carry an object')
    .optional(),
  objectEventType: EventType.optional(),
  workspaceInfo: WorkspaceInfo.optional(),
  workspaceId: WorkspaceCustomerId.optional(),
  object: caseInsensitiveObject({
    id: incidentArmIdField(requiredText, 'must be a Microsoft Sentinel incident ARM id'),
    properties: IncidentProperties,
  }),
});
export type IncidentTrigger = z.infer<typeof IncidentTrigger>;
