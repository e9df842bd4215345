import type { ParsedAlert } from './alert-types';
import { collectOutcomes } from './collect-targets';
import { classifyEntities } from './entity-to-target';
import { alertEntities, IncidentTrigger } from './incident-trigger';
import { parseOrThrow } from './issues-to-fields';
import { PostedBody } from './posted-body';
import { assertEntityBudget, type SentinelEntity } from './sentinel-entity';
import { assertWorkspaceAgrees } from './workspace-info';

const INVALID = 'The incident trigger body is invalid.';

/**
 * Reads a "Microsoft Sentinel incident" trigger body with the {@link IncidentTrigger} schema. Targets come
 * from `relatedEntities` and from each alert's `properties.entities` (or `relatedEntities`) when present.
 * Throws a `ValidationError` naming every bad field as posted, or the one that disagrees with another
 * (`workspaceInfo` and the incident id; the entity list that takes the body past the entity limit).
 */
export function parseIncidentTrigger(body: Record<string, unknown>): ParsedAlert {
  const posted = new PostedBody(body);
  const trigger = parseOrThrow(IncidentTrigger, body, posted, INVALID);
  const { id, arm } = trigger.object.id;
  const p = trigger.object.properties;

  assertWorkspaceAgrees(trigger.workspaceInfo, arm.workspace, posted, INVALID);
  const props = ['object', 'properties'];
  const lists: Array<{ path: Array<string | number>; list: SentinelEntity[] }> = [{ path: [...props, 'relatedEntities'], list: p.relatedEntities ?? [] }];
  (p.alerts ?? []).forEach((alert, i) => {
    const found = alertEntities(alert);
    if (found !== undefined) {
      lists.push({ path: [...props, 'alerts', i, 'properties', found.key], list: found.list });
    }
  });
  assertEntityBudget(lists, posted, INVALID);
  const { targets, rejected, rejectedOmitted } = collectOutcomes(lists.flatMap(({ path, list }) => classifyEntities(list, posted.path(path))));

  // `workspaceInfo` agrees with the incident id, so the id's workspace stands.
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
