import type { RejectedEntity, TargetRef } from './alert-types';
import { describeType, FieldReader, isRecord, type FoundField } from './field-reader';
import { isGuid } from './is-guid';
import { isUpn } from './is-upn';

/** What one entity gave: a target to resolve, or the reason it names no one. */
export type EntityOutcome = { target: TargetRef } | { rejected: RejectedEntity };

const DISPLAY_NAMES = ['friendlyName', 'displayName', 'accountName', 'name', 'appName', 'hostName', 'address'];
const MAX_DISPLAY_NAME = 256;

/**
 * Turns one Sentinel entity into a target, following what Sentinel really sends (see
 * `reference/sentinel/payloads.md`):
 * - `Account` with a GUID `aadUserId` → object id (a service principal arrives this way, without `upnSuffix`);
 * - `Account` without `aadUserId` but with `Name` and a non-empty `UPNSuffix` → UPN;
 * - `CloudApplication` with a GUID `appId` → Entra appId; an integer `appId` is a Defender for Cloud Apps id;
 * - anything else is rejected with a reason. Nothing is ever resolved by display name.
 *
 * The entity may be ARM-shaped (`{ kind, properties: {…} }`, incident trigger) or flat
 * (`{ Type: 'account', Name, … }`, alert trigger); field names match in any letter case. Strings over the
 * length limit are recorded on `reader` (they make the body a 400); every other oddity only rejects the entity.
 */
export function entityToTarget(entity: unknown, path: string, reader: FieldReader): EntityOutcome {
  const reject = (kind: string, reason: string, name?: string): EntityOutcome => ({
    rejected: name === undefined ? { path, kind, reason } : { path, kind, name, reason },
  });
  if (!isRecord(entity)) {
    return reject('unknown', `entity is ${describeType(entity)}, not an object`);
  }

  const wrapped = reader.get(entity, path, ['properties']);
  if (wrapped !== undefined && !isRecord(wrapped.value)) {
    return reject('unknown', `entity properties is ${describeType(wrapped.value)}, not an object`);
  }
  const props = wrapped === undefined ? entity : (wrapped.value as Record<string, unknown>);
  const propsPath = wrapped === undefined ? path : wrapped.path;

  const name = displayName(reader, props, propsPath);
  const kind = entityKind(reader, entity, path, props, propsPath);
  if (kind === undefined) {
    const ref = reader.get(entity, path, ['$ref']);
    return reject(
      'unknown',
      ref === undefined
        ? 'entity has no kind (kind/Type) and no Account or CloudApplication fields'
        : 'entity is a $ref to another entity of the alert, which is read where it is defined',
      name,
    );
  }

  // Incident entities say `CloudApplication`, alert-trigger entities `cloud-application`.
  switch (kind.toLowerCase().replace(/[-_\s]/g, '')) {
    case 'account':
      return accountTarget(reader, props, propsPath, kind, name, reject);
    case 'cloudapplication':
      return cloudApplicationTarget(reader, props, propsPath, kind, name, reject);
    default:
      return reject(kind, `entity kind ${kind} identifies no Entra identity`, name);
  }
}

type Reject = (kind: string, reason: string, name?: string) => EntityOutcome;

function accountTarget(
  reader: FieldReader,
  props: Record<string, unknown>,
  base: string,
  kind: string,
  name: string | undefined,
  reject: Reject,
): EntityOutcome {
  const aad = reader.get(props, base, ['aadUserId']);
  const account = reader.get(props, base, ['accountName', 'name']);
  const suffix = reader.get(props, base, ['upnSuffix']);

  const accountName = typeof account?.value === 'string' ? account.value.trim() : undefined;
  const upnSuffix = typeof suffix?.value === 'string' ? suffix.value.trim() : undefined;

  if (aad !== undefined) {
    const wrapped = arrayWrapped(aad);
    if (wrapped !== undefined) {
      return reject(kind, wrapped, name);
    }
    if (!isGuid(aad.value)) {
      return reject(kind, `${aad.key} is not a GUID (${describeValue(aad.value)}); the account is not resolved`, name);
    }
    // The object id alone identifies the account; a malformed name or suffix only costs the display UPN.
    const upn = accountName && upnSuffix ? joinUpn(accountName, upnSuffix) : undefined;
    return {
      target: {
        by: 'objectId',
        objectId: aad.value.toLowerCase(),
        ...(upn === undefined ? {} : { upn }),
        ...(name === undefined ? {} : { name }),
      },
    };
  }

  // Without an object id the UPN is all there is, so a wrapped name or suffix must not be unwrapped by guess.
  for (const field of [account, suffix]) {
    const wrapped = field === undefined ? undefined : arrayWrapped(field);
    if (wrapped !== undefined) {
      return reject(kind, wrapped, name);
    }
  }
  if (accountName === undefined || accountName === '') {
    return reject(kind, 'Account has no aadUserId and no account name', name);
  }
  if (suffix === undefined) {
    return reject(kind, 'Account has no aadUserId and no UPN suffix; a bare account name identifies no one', name);
  }
  if (upnSuffix === undefined) {
    return reject(kind, `${suffix.key} is ${describeType(suffix.value)}, not a string`, name);
  }
  if (upnSuffix === '') {
    return reject(kind, `Account has no aadUserId and an empty ${suffix.key}: "name@" is not a UPN`, name);
  }
  const upn = joinUpn(accountName, upnSuffix);
  if (upn === undefined) {
    return reject(kind, 'account name and UPN suffix do not form a valid UPN (one "@", no spaces)', name);
  }
  return { target: { by: 'upn', upn, ...(name === undefined ? {} : { name }) } };
}

function cloudApplicationTarget(
  reader: FieldReader,
  props: Record<string, unknown>,
  base: string,
  kind: string,
  name: string | undefined,
  reject: Reject,
): EntityOutcome {
  const appId = reader.get(props, base, ['appId']);
  if (appId === undefined) {
    return reject(kind, 'CloudApplication has no appId', name);
  }
  const wrapped = arrayWrapped(appId);
  if (wrapped !== undefined) {
    return reject(kind, wrapped, name);
  }
  if (isGuid(appId.value)) {
    return { target: { by: 'appId', appId: appId.value.toLowerCase(), ...(name === undefined ? {} : { name }) } };
  }
  const numeric =
    (typeof appId.value === 'number' && Number.isInteger(appId.value)) ||
    (typeof appId.value === 'string' && /^\s*\d+\s*$/.test(appId.value));
  if (numeric) {
    return reject(
      kind,
      `appId ${String(appId.value).trim()} is a Defender for Cloud Apps app id, not an Entra appId; not resolved`,
      name,
    );
  }
  return reject(kind, `appId is neither an Entra appId (GUID) nor a Defender for Cloud Apps id (${describeValue(appId.value)})`, name);
}

/**
 * The entity's kind: `kind` (incident trigger), else `Type` (alert trigger) unless it is an ARM resource
 * type such as `Microsoft.SecurityInsights/entities`. An entity without either (the entity trigger's
 * `Entity` may omit it) is taken as an Account or CloudApplication only when it carries fields that no
 * other kind has: `aadUserId`/`upnSuffix`/`accountName`, or `appId`.
 */
function entityKind(
  reader: FieldReader,
  entity: Record<string, unknown>,
  path: string,
  props: Record<string, unknown>,
  propsPath: string,
): string | undefined {
  for (const names of [['kind'], ['type']]) {
    const found = reader.get(entity, path, names);
    if (typeof found?.value === 'string' && found.value.trim() !== '' && !found.value.includes('/')) {
      return found.value.trim();
    }
  }
  if (reader.get(props, propsPath, ['aadUserId', 'upnSuffix', 'accountName']) !== undefined) {
    return 'Account';
  }
  if (reader.get(props, propsPath, ['appId']) !== undefined) {
    return 'CloudApplication';
  }
  return undefined;
}

/**
 * A name for display and for the case record. It identifies nothing, so an over-long one (a Url entity's
 * friendlyName can be a long URL) is clipped rather than failing the whole body.
 */
function displayName(reader: FieldReader, props: Record<string, unknown>, base: string): string | undefined {
  for (const key of DISPLAY_NAMES) {
    const found = reader.get(props, base, [key], Number.MAX_SAFE_INTEGER);
    const text = typeof found?.value === 'string' ? found.value.trim() : '';
    if (text !== '') {
      return text.length > MAX_DISPLAY_NAME ? `${text.slice(0, MAX_DISPLAY_NAME)}…` : text;
    }
  }
  return undefined;
}

/**
 * The known bad shape where a playbook or rule wraps the UPN in an array (`["a@b.com"]`), either as a real
 * array or as the JSON text of one. Unwrapping would be guessing which element was meant.
 */
function arrayWrapped(field: FoundField): string | undefined {
  if (Array.isArray(field.value)) {
    return `${field.key} is array-wrapped (an array, not a string); not resolved`;
  }
  if (typeof field.value === 'string' && /^\s*\[.*\]\s*$/s.test(field.value)) {
    return `${field.key} is array-wrapped (the text of a JSON array); not resolved`;
  }
  return undefined;
}

/** `name@suffix`, lower-cased, when that is a well-formed UPN: exactly one `@`, non-empty parts, no spaces. */
function joinUpn(accountName: string, upnSuffix: string): string | undefined {
  const upn = `${accountName}@${upnSuffix}`.toLowerCase();
  return isUpn(upn) ? upn : undefined;
}

/** A short, safe description of a bad value for a reason text: its type, or a clipped string. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 40 ? `"${value.slice(0, 40)}…"` : `"${value}"`;
  }
  return describeType(value);
}
