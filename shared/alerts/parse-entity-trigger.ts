import { ValidationError } from '../errors';
import type { ParsedAlert } from './alert-types';
import { canonicalJson, shortHash } from './canonical-json';
import { collectOutcomes } from './collect-targets';
import { classifyEntity } from './entity-to-target';
import { EntityTrigger } from './entity-trigger';
import { parseOrThrow } from './issues-to-fields';
import { PostedBody } from './posted-body';
import { assertWorkspaceAgrees, postedWorkspace } from './workspace-info';

const INVALID = 'The entity trigger body is invalid.';

/**
 * Reads a "Microsoft Sentinel entity" trigger body with the {@link EntityTrigger} schema. The dedupe key
 * hashes the entity as posted, canonicalised (keys lower-cased and sorted, GUIDs lower-cased), so the same
 * entity re-posted in another casing or key order is recognised. Throws a `ValidationError` naming every bad
 * field as posted.
 */
export function parseEntityTrigger(body: Record<string, unknown>): ParsedAlert {
  const posted = new PostedBody(body);
  const trigger = parseOrThrow(EntityTrigger, body, posted, INVALID);
  const incident = trigger.IncidentArmID;
  if (incident !== undefined) {
    assertWorkspaceAgrees(trigger.workspaceInfo, incident.arm.workspace, posted, INVALID);
  }
  const entityPath = posted.path(['Entity']);
  // The schema accepts only an object here; the hash covers every field posted, read or not.
  const canonical = trigger.Entity === undefined ? undefined : canonicalJson(trigger.Entity.posted);
  if (canonical === undefined) {
    throw new ValidationError(INVALID, [{ field: entityPath, message: 'is nested too deeply' }]);
  }
  const { targets, rejected, rejectedOmitted } = collectOutcomes([classifyEntity(trigger.Entity, entityPath)]);
  // `workspaceInfo`, when given with an incident id, agrees with it.
  const workspace = incident?.arm.workspace ?? postedWorkspace(trigger.workspaceInfo);
  return {
    source: 'entity',
    dedupeKey: `entity:${incident === undefined ? 'none' : incident.id.toLowerCase()}:${shortHash(canonical)}`,
    ...(incident === undefined ? {} : { incidentArmId: incident.id }),
    ...(workspace === undefined ? {} : { workspace }),
    title: incident === undefined ? 'Sentinel entity trigger' : `Sentinel entity trigger for incident ${incident.arm.incidentId}`,
    severity: trigger.Severity ?? 'Medium',
    ...(trigger.Severity === undefined ? { severityDefaulted: true as const } : {}),
    targets,
    rejected,
    ...(rejectedOmitted === 0 ? {} : { rejectedOmitted }),
  };
}
