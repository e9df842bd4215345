import { ValidationError } from '../errors';
import type { ParsedAlert } from './alert-types';
import { parseDirectRequest } from './direct-request';
import { describeType, FieldReader, isRecord } from './field-reader';
import { parseAlertTrigger } from './parse-alert-trigger';
import { parseEntityTrigger } from './parse-entity-trigger';
import { parseIncidentTrigger } from './parse-incident-trigger';

const EXPECTED =
  'expected a Microsoft Sentinel incident trigger body (with "object"), alert trigger body ' +
  '(with "SystemAlertId" and "Entities"), entity trigger body (with "Entity"), ' +
  'or a direct request { targets: [{ id | appId | upn }], reason }';

/**
 * Understands a `POST /alerts` body in any of the four shapes it may take, told apart by their top-level
 * fields (matched ignoring case, except the direct request, which is strict):
 * 1. Sentinel incident trigger — `object` (`objectSchemaType: Incident` optional);
 * 2. Sentinel entity trigger — `Entity` (+ `IncidentArmID`);
 * 3. Sentinel alert trigger — `SystemAlertId` / `Entities`;
 * 4. direct request — `targets` + `reason`.
 *
 * Throws a {@link ValidationError} (400) naming every bad field by JSON path when the body is unusable as a
 * whole. A well-formed body that names nobody usable returns `targets: []` (the caller answers 422) with
 * each entity's reason in `rejected`. Never follows the prototype chain, never mutates its input.
 *
 * @example
 * const alert = parseAlert(await readJsonBody(request));
 * if (alert.targets.length === 0) { ...422 with alert.rejected... }
 */
export function parseAlert(body: unknown): ParsedAlert {
  if (!isRecord(body)) {
    throw new ValidationError(`The request body is ${describeType(body)}; ${EXPECTED}.`, [
      { field: '$', message: `must be a JSON object; ${EXPECTED}` },
    ]);
  }
  const reader = new FieldReader();
  const shape = detectShape(reader, body);
  if (shape === 'direct') {
    return parseDirectRequest(body);
  }
  const parse = { incident: parseIncidentTrigger, entity: parseEntityTrigger, alert: parseAlertTrigger }[shape];
  const parsed = parse(reader, body);
  const problems = reader.problems;
  if (problems.length > 0 || parsed === undefined) {
    throw new ValidationError(
      `The ${shape} trigger body is invalid.`,
      problems.length > 0 ? problems : [{ field: '$', message: `is not a usable ${shape} trigger body` }],
    );
  }
  return parsed;
}

type Shape = 'incident' | 'entity' | 'alert' | 'direct';

function detectShape(reader: FieldReader, body: Record<string, unknown>): Shape {
  const has = (name: string): boolean => reader.get(body, '', [name], Number.MAX_SAFE_INTEGER) !== undefined;
  if (has('object')) {
    return 'incident';
  }
  if (has('Entity')) {
    return 'entity';
  }
  if (has('SystemAlertId') || has('Entities')) {
    return 'alert';
  }
  // Own-key checks: the direct request is matched exactly, as its schema is strict.
  if (Object.prototype.hasOwnProperty.call(body, 'targets') || Object.prototype.hasOwnProperty.call(body, 'reason')) {
    return 'direct';
  }
  const problems = reader.problems; // e.g. a top-level key given twice in different case
  throw new ValidationError(`The request body has an unknown shape; ${EXPECTED}.`, [
    ...problems,
    { field: '$', message: EXPECTED },
  ]);
}
