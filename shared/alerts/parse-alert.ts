import { ValidationError } from '../errors';
import type { ParsedAlert } from './alert-types';
import { parseDirectRequest } from './direct-request';
import { describeType, isRecord, ownValue } from './json-value';
import { parseAlertTrigger } from './parse-alert-trigger';
import { parseEntityTrigger } from './parse-entity-trigger';
import { parseIncidentTrigger } from './parse-incident-trigger';

const EXPECTED =
  'expected a Microsoft Sentinel incident trigger body (with "object"), alert trigger body ' +
  '(with "SystemAlertId" and "Entities"), entity trigger body (with "Entity"), ' +
  'or a direct request { targets: [{ id | appId | upn }], reason }';

/**
 * Understands a `POST /alerts` body in any of the four shapes it may take, told apart by their top-level
 * fields (matched ignoring case, except the direct request, which is strict), each read by its zod schema:
 * 1. Sentinel incident trigger — `object` (`IncidentTrigger`);
 * 2. Sentinel entity trigger — `Entity` (+ `IncidentArmID`) (`EntityTrigger`);
 * 3. Sentinel alert trigger — `SystemAlertId` / `Entities` (`AlertTrigger`);
 * 4. direct request — `targets` + `reason` (`DirectRequest`).
 *
 * Throws a {@link ValidationError} (400) naming every bad field by JSON path, spelled as posted, when the body
 * is unusable as a whole. A well-formed body that names nobody usable returns `targets: []` (the caller
 * answers 422) with each entity's reason in `rejected`. Never throws anything else, never follows the
 * prototype chain, never mutates its input.
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
  const given = fieldsGiven(body);
  if (given.has('object')) {
    return parseIncidentTrigger(body);
  }
  if (given.has('entity')) {
    return parseEntityTrigger(body);
  }
  if (given.has('systemalertid') || given.has('entities')) {
    return parseAlertTrigger(body);
  }
  // Own-key checks: the direct request is matched exactly, as its schema is strict.
  if (Object.prototype.hasOwnProperty.call(body, 'targets') || Object.prototype.hasOwnProperty.call(body, 'reason')) {
    return parseDirectRequest(body);
  }
  throw new ValidationError(`The request body has an unknown shape; ${EXPECTED}.`, [{ field: '$', message: EXPECTED }]);
}

/** The lower-cased names of the body's own fields that hold something other than null (null reads as absent). */
function fieldsGiven(body: Record<string, unknown>): Set<string> {
  const given = new Set<string>();
  for (const key of Object.keys(body)) {
    const value = ownValue(body, key);
    if (value !== null && value !== undefined) {
      given.add(key.toLowerCase());
    }
  }
  return given;
}
