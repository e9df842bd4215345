import type { ParsedAlert } from './alert-types';
import { collectOutcomes } from './collect-targets';
import { classifyEntities } from './entity-to-target';
import { alertEntities, IncidentTrigger } from './incident-trigger';
import { parseOrThrow } from './issues-to-fields';
import { PostedBody } from './posted-body';

/**
 * Reads a "Microsoft Sentinel incident" trigger body with the {@link IncidentTrigger} schema. Targets come
 * from `relatedEntities` and from each alert's `properties.entities` (or `relatedEntities`) when present.
 * Throws a `ValidationError` naming every bad field as posted.
 */
export function parseIncidentTrigger(body: Record<string, unknown>): ParsedAlert {
  const posted = new PostedBody(body);
  const trigger = parseOrThrow(IncidentTrigger, body, posted, 'The incident trigger body is invalid.');
  const { id, arm } = trigger.object.id;
  const p = trigger.object.properties;

  const props = ['object', 'properties'];
  const outcomes = classifyEntities(p.relatedEntities ?? [], posted.path([...props, 'relatedEntities']));
  (p.alerts ?? []).forEach((alert, i) => {
    const found = alertEntities(alert);
    if (found !== undefined) {
      outcomes.push(...classifyEntities(found.list, posted.path([...props, 'alerts', i, 'properties', found.key])));
    }
  });
  const { targets, rejected, rejectedOmitted } = collectOutcomes(outcomes);

  // `workspaceInfo`, when given, agrees with the incident id (the schema checks), so the id's workspace stands.
  const workspace = { ...arm.workspace, ...(trigger.workspaceId === undefined ? {} : { customerId: trigger.workspaceId }) };
  return {
    source: 'incident',
    dedupeKey: `incident:${id.toLowerCase()}`,
    ...(trigger.objectEventType === undefined ? {} : { eventType: trigger.objectEventType }),
    incidentArmId: id,
    ...(p.incidentNumber === undefined ? {} : { incidentNumber: p.incidentNumber }),
    ...(p.incidentUrl === undefined ? {} : { incidentUrl: p.incidentUrl }),
    ...(p.status === undefined ? {} : { incidentStatus: p.status }),
    workspace,
    title: p.title !== undefined && p.title.trim() !== '' ? p.title : `Sentinel incident ${p.incidentNumber ?? arm.incidentId}`,
    severity: p.severity ?? 'Medium',
    ...(p.severity === undefined ? { severityDefaulted: true as const } : {}),
    targets,
    rejected,
    ...(rejectedOmitted === 0 ? {} : { rejectedOmitted }),
  };
}
