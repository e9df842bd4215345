import type { RejectedEntity, TargetRef } from './alert-types';
import { findOwnKey } from './case-insensitive-object';
import { issuesToFields } from './issues-to-fields';
import { isGuid } from '../is-guid';
import { isUpn } from './is-upn';
import { clipText, describeType, displayText } from './json-value';
import { PostedBody } from './posted-body';
import { SentinelEntity, type EntityFields } from './sentinel-entity';
import { ValidationError } from '../errors';

/** What one entity gave: a target to resolve, or the reason it names no one. */
export type EntityOutcome = { target: TargetRef } | { rejected: RejectedEntity };

/** Shown for an entity, in this order of preference. */
const DISPLAY_NAMES = ['friendlyName', 'displayName', 'accountName', 'name', 'appName', 'hostName', 'address'] as const;
const MAX_DISPLAY_NAME = 256;
/** Kinds are short names (`Account`, `cloud-application`); a longer one is clipped where it is recorded. */
const MAX_KIND = 64;

/**
 * Turns one posted Sentinel entity into a target, or the reason it names no one: the entity is read with the
 * {@link SentinelEntity} schema, then {@link classifyEntity}. Throws a {@link ValidationError} naming the field
 * (under `path`) when the entity makes a body unusable: an identifier over the length limit, or a field given
 * twice in different letter case.
 *
 * @example
 * entityToTarget({ kind: 'Account', properties: { aadUserId: 'AAAA…' } }, 'Entities[0]');
 * // { target: { by: 'objectId', objectId: 'aaaa…' } }
 */
export function entityToTarget(entity: unknown, path: string): EntityOutcome {
  const parsed = SentinelEntity.safeParse(entity);
  if (!parsed.success) {
    const fields = issuesToFields(parsed.error.issues, new PostedBody(entity));
    throw new ValidationError('The entity is invalid.', fields.map((f) => ({ ...f, field: f.field === '$' ? path : `${path}.${f.field}` })));
  }
  return classifyEntity(parsed.data, path);
}

/**
 * The verdict on one entity the schema accepted, following what Sentinel really sends (see
 * `reference/sentinel/payloads.md`):
 * - `Account` with a GUID `aadUserId` → object id (a service principal arrives this way, without `upnSuffix`);
 * - `Account` without `aadUserId` but with `Name` and a non-empty `UPNSuffix` → UPN;
 * - `CloudApplication` with a GUID `appId` → Entra appId; an integer `appId` is a Defender for Cloud Apps id;
 * - anything else is rejected with a reason. Nothing is ever resolved by display name.
 *
 * Kinds match in any letter case (`Account`, `account`, `cloud-application`). Reasons quote field names as
 * the sender spelled them. `path` is the entity's JSON path in the body, recorded with a rejection.
 */
export function classifyEntity(entity: SentinelEntity, path: string): EntityOutcome {
  const reject = (kind: string, reason: string, name?: string): EntityOutcome => ({
    rejected: name === undefined ? { path, kind, reason } : { path, kind, name, reason },
  });
  if (entity === undefined || 'notAnObject' in entity) {
    return reject('unknown', `entity is ${entity?.notAnObject ?? 'an undefined'}, not an object`);
  }
  const { object: e } = entity;
  if (e.properties !== undefined && 'notAnObject' in e.properties) {
    return reject('unknown', `entity properties is ${e.properties.notAnObject}, not an object`);
  }
  // ARM entities carry their fields in `properties`; the alert trigger's flat entities carry them inline.
  const fields: Fields = e.properties === undefined ? { values: e, posted: entity.posted } : { values: e.properties.object, posted: e.properties.posted };

  const name = displayName(fields);
  const kind = entityKind(e, fields);
  if (kind === undefined) {
    return reject(
      'unknown',
      e.$ref === undefined
        ? 'entity has no kind (kind/Type) and no Account or CloudApplication fields'
        : 'entity is a $ref to another entity of the alert, which is read where it is defined',
      name,
    );
  }
  // Incident entities say `CloudApplication`, alert-trigger entities `cloud-application`.
  switch (kind.toLowerCase().replace(/[-_\s]/g, '')) {
    case 'account':
      return accountTarget(fields, kind, name, reject);
    case 'cloudapplication':
      return cloudApplicationTarget(fields, kind, name, reject);
    default:
      return reject(kind, `entity kind ${kind} identifies no Entra identity`, name);
  }
}

/** Verdicts on every entity of a list, which was posted at `listPath` (spelled as the sender did). */
export function classifyEntities(list: readonly SentinelEntity[], listPath: string): EntityOutcome[] {
  return list.map((entity, i) => classifyEntity(entity, `${listPath}[${i}]`));
}

/** The identity fields, and the object they were posted in (for how the sender spelled them). */
interface Fields {
  values: EntityFields;
  posted: Record<string, unknown>;
}
type Reject = (kind: string, reason: string, name?: string) => EntityOutcome;

/** A field that is present: its value, and its key as posted (looked up only when a reason quotes it). */
interface Field {
  readonly key: string;
  readonly value: unknown;
}

function field(fields: Fields, name: keyof EntityFields): Field | undefined {
  const value = fields.values[name];
  if (value === undefined) {
    return undefined;
  }
  return {
    value,
    get key(): string {
      return findOwnKey(fields.posted, name) ?? name;
    },
  };
}

function accountTarget(fields: Fields, kind: string, name: string | undefined, reject: Reject): EntityOutcome {
  const aad = field(fields, 'aadUserId');
  const account = field(fields, 'accountName') ?? field(fields, 'name');
  const suffix = field(fields, 'upnSuffix');

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
  for (const f of [account, suffix]) {
    const wrapped = f === undefined ? undefined : arrayWrapped(f);
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

function cloudApplicationTarget(fields: Fields, kind: string, name: string | undefined, reject: Reject): EntityOutcome {
  const appId = field(fields, 'appId');
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
    const id = displayText(String(appId.value), 40);
    return reject(kind, `appId ${id} is a Defender for Cloud Apps app id, not an Entra appId; not resolved`, name);
  }
  return reject(kind, `appId is neither an Entra appId (GUID) nor a Defender for Cloud Apps id (${describeValue(appId.value)})`, name);
}

/**
 * The entity's kind: `kind` (incident trigger), else `Type` (alert trigger) unless it is an ARM resource
 * type such as `Microsoft.SecurityInsights/entities`. An entity without either (the entity trigger's
 * `Entity` may omit it) is taken as an Account or CloudApplication only when it carries fields that no
 * other kind has: `aadUserId`/`upnSuffix`/`accountName`, or `appId`.
 */
function entityKind(e: { kind?: unknown; type?: unknown }, fields: Fields): string | undefined {
  for (const value of [e.kind, e.type]) {
    if (typeof value === 'string' && value.trim() !== '' && !value.includes('/')) {
      return displayText(value, MAX_KIND);
    }
  }
  const { aadUserId, upnSuffix, accountName, appId } = fields.values;
  if (aadUserId !== undefined || upnSuffix !== undefined || accountName !== undefined) {
    return 'Account';
  }
  if (appId !== undefined) {
    return 'CloudApplication';
  }
  return undefined;
}

/**
 * A name for display and for the case record. It identifies nothing, so an over-long one (a Url entity's
 * friendlyName can be a long URL) is clipped rather than failing the whole body.
 */
function displayName(fields: Fields): string | undefined {
  for (const key of DISPLAY_NAMES) {
    const value = fields.values[key];
    if (typeof value === 'string' && value.trim() !== '') {
      return displayText(value, MAX_DISPLAY_NAME);
    }
  }
  return undefined;
}

/**
 * The known bad shape where a playbook or rule wraps the UPN in an array (`["a@b.com"]`), either as a real
 * array or as the JSON text of one. Unwrapping would be guessing which element was meant.
 */
function arrayWrapped(f: Field): string | undefined {
  if (Array.isArray(f.value)) {
    return `${f.key} is array-wrapped (an array, not a string); not resolved`;
  }
  if (typeof f.value === 'string' && /^\s*\[.*\]\s*$/s.test(f.value)) {
    return `${f.key} is array-wrapped (the text of a JSON array); not resolved`;
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
  return typeof value === 'string' ? `"${clipText(value, 40)}"` : describeType(value);
}
