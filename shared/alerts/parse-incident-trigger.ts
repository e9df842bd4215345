import type { ParsedAlert } from './alert-types';
import { collectOutcomes } from './collect-targets';
import type { EntityOutcome } from './entity-to-target';
import { describeType, indexPath, isRecord, ownElements, type FieldReader } from './field-reader';
import { normalizeSeverity } from './normalize-severity';
import { parseIncidentArmId } from '../sentinel/incident-arm-id';
import { newEntityBudget, readEntityList } from './read-entity-list';
import { readWorkspaceInfo } from './read-workspace';

/**
 * The "Microsoft Sentinel incident" trigger body (`{ objectSchemaType, objectEventType, workspaceInfo,
 * object: { id, properties: { title, severity, status, incidentNumber, incidentUrl, alerts[],
 * relatedEntities[] } } }`) in either casing. Targets come from `relatedEntities` and from each alert's
 * `properties.entities` (or `relatedEntities`) when present. Problems are recorded on `reader`; the caller
 * throws when there are any.
 */
export function parseIncidentTrigger(reader: FieldReader, body: Record<string, unknown>): ParsedAlert | undefined {
  const schemaType = reader.string(body, '', ['objectSchemaType']);
  if (schemaType !== undefined && schemaType.toLowerCase() !== 'incident') {
    reader.problem('objectSchemaType', 'must be Incident: only incident trigger bodies carry an object');
  }
  const eventType = readEventType(reader.string(body, '', ['objectEventType']));

  const object = reader.record(body, '', ['object'], true);
  if (object === undefined) {
    return undefined;
  }
  const incidentArmId = reader.string(object.value, object.path, ['id'], true);
  const arm = incidentArmId === undefined ? undefined : parseIncidentArmId(incidentArmId);
  if (incidentArmId !== undefined && arm === undefined) {
    reader.problem(`${object.path}.${reader.get(object.value, object.path, ['id'])?.key ?? 'id'}`, 'must be a Microsoft Sentinel incident ARM id');
  }
  const workspace = readWorkspaceInfo(reader, body, arm?.workspace);

  const props = reader.record(object.value, object.path, ['properties'], true);
  if (props === undefined) {
    return undefined;
  }
  const p = props.value;
  const title = reader.string(p, props.path, ['title']);
  const severity = normalizeSeverity(reader.get(p, props.path, ['severity'])?.value);
  const incidentStatus = reader.string(p, props.path, ['status']);
  const incidentNumber = readIncidentNumber(reader, p, props.path);
  const incidentUrl = readIncidentUrl(reader, p, props.path);

  const budget = newEntityBudget();
  const outcomes: EntityOutcome[] = [...readEntityList(reader, reader.get(p, props.path, ['relatedEntities']), budget)];
  const alerts = reader.get(p, props.path, ['alerts']);
  if (alerts !== undefined) {
    if (!Array.isArray(alerts.value)) {
      reader.problem(alerts.path, `must be an array, got ${describeType(alerts.value)}`);
    } else {
      ownElements(alerts.value).forEach((alert, i) => {
        const alertPath = indexPath(alerts.path, i);
        if (!isRecord(alert)) {
          reader.problem(alertPath, `must be an object, got ${describeType(alert)}`);
          return;
        }
        const alertProps = reader.record(alert, alertPath, ['properties']);
        if (alertProps !== undefined) {
          // Large lists may arrive as JSON text here too, hence the body-sized limit on this one field.
          const list = reader.get(alertProps.value, alertProps.path, ['entities', 'relatedEntities'], Number.MAX_SAFE_INTEGER);
          outcomes.push(...readEntityList(reader, list, budget));
        }
      });
    }
  }

  if (incidentArmId === undefined || arm === undefined) {
    return undefined;
  }
  const { targets, rejected } = collectOutcomes(outcomes);
  return {
    source: 'incident',
    dedupeKey: `incident:${incidentArmId.toLowerCase()}`,
    ...(eventType === undefined ? {} : { eventType }),
    incidentArmId,
    ...(incidentNumber === undefined ? {} : { incidentNumber }),
    ...(incidentUrl === undefined ? {} : { incidentUrl }),
    ...(incidentStatus === undefined ? {} : { incidentStatus }),
    ...(workspace === undefined ? {} : { workspace }),
    title: title !== undefined && title.trim() !== '' ? title : `Sentinel incident ${incidentNumber ?? arm.incidentId}`,
    severity,
    targets,
    rejected,
  };
}

/** `Create` / `Update` in any case; any other value is ignored (it only tunes how a repeat is handled). */
function readEventType(value: string | undefined): 'Create' | 'Update' | undefined {
  switch (value?.trim().toLowerCase()) {
    case 'create':
      return 'Create';
    case 'update':
      return 'Update';
    default:
      return undefined;
  }
}

function readIncidentNumber(reader: FieldReader, p: Record<string, unknown>, base: string): number | undefined {
  const found = reader.get(p, base, ['incidentNumber']);
  if (found === undefined) {
    return undefined;
  }
  const n = typeof found.value === 'string' && /^\s*\d{1,15}\s*$/.test(found.value) ? Number(found.value) : found.value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    reader.problem(found.path, 'must be a non-negative integer');
    return undefined;
  }
  return n;
}

/** Only an https URL: it ends up as a link in tickets and approval pages, where `javascript:` must not. */
function readIncidentUrl(reader: FieldReader, p: Record<string, unknown>, base: string): string | undefined {
  const found = reader.get(p, base, ['incidentUrl']);
  const value = reader.string(p, base, ['incidentUrl']);
  if (found === undefined || value === undefined) {
    return undefined;
  }
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:') {
    reader.problem(found.path, 'must be an https URL');
    return undefined;
  }
  return value;
}
