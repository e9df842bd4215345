import type { ParsedAlert } from './alert-types';
import { canonicalJson, shortHash } from './canonical-json';
import { collectOutcomes } from './collect-targets';
import { entityToTarget } from './entity-to-target';
import type { FieldReader } from './field-reader';
import { normalizeSeverity } from './normalize-severity';
import { parseIncidentArmId } from '../sentinel/incident-arm-id';
import { readWorkspaceInfo } from './read-workspace';

/**
 * The "Microsoft Sentinel entity" trigger body: `{ Entity: { properties: {…} }, IncidentArmID }`, where
 * `IncidentArmID` may be null. The dedupe key hashes the canonical entity (keys lower-cased and sorted),
 * so the same entity re-posted in another casing or key order is recognised. Problems go on `reader`.
 */
export function parseEntityTrigger(reader: FieldReader, body: Record<string, unknown>): ParsedAlert | undefined {
  const entity = reader.record(body, '', ['Entity'], true);
  const armFound = reader.get(body, '', ['IncidentArmID']);
  const incidentArmId = reader.string(body, '', ['IncidentArmID']);
  const arm = incidentArmId === undefined ? undefined : parseIncidentArmId(incidentArmId);
  if (incidentArmId !== undefined && arm === undefined) {
    reader.problem(armFound?.path ?? 'IncidentArmID', 'must be a Microsoft Sentinel incident ARM id, or null');
  }
  const workspace = readWorkspaceInfo(reader, body, arm?.workspace);
  const severity = normalizeSeverity(reader.get(body, '', ['Severity'])?.value);
  if (entity === undefined) {
    return undefined;
  }

  const outcome = entityToTarget(entity.value, entity.path, reader);
  const canonical = canonicalJson(entity.value);
  if (canonical === undefined) {
    reader.problem(entity.path, 'is nested too deeply');
    return undefined;
  }
  const { targets, rejected } = collectOutcomes([outcome]);
  return {
    source: 'entity',
    dedupeKey: `entity:${arm === undefined ? 'none' : (incidentArmId ?? '').toLowerCase()}:${shortHash(canonical)}`,
    ...(incidentArmId === undefined || arm === undefined ? {} : { incidentArmId }),
    ...(workspace === undefined ? {} : { workspace }),
    title: arm === undefined ? 'Sentinel entity trigger' : `Sentinel entity trigger for incident ${arm.incidentId}`,
    severity,
    targets,
    rejected,
  };
}
