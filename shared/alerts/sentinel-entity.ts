import { z } from 'zod';
import { ValidationError } from '../errors';
import { parseJsonText } from '../http/parse-json-text';
import { caseInsensitiveObject } from './case-insensitive-object';
import { boundedValue } from './field-schemas';
import { describeType, isRecord, ownElements } from './json-value';
import type { PostedBody } from './posted-body';

/**
 * Most entities read from one body, all lists together. Sentinel sends incidents with a thousand entities and
 * more, so this only stops absurd bodies (the 1 MiB body limit binds first for real ones); beyond it the body
 * is refused, never truncated.
 */
export const MAX_ENTITIES = 10_000;

/**
 * The fields of an entity that may name an Entra identity (`aadUserId`; `accountName` or `name` with
 * `upnSuffix`; `appId`), and those it is shown by. They are read from an ARM entity's `properties` (incident
 * trigger) or from the entity itself (the alert trigger's flat entities).
 *
 * Any type is accepted here: a wrong type only means this entity names no one, which `classifyEntity` records
 * with the reason. An identifier string over the field limit makes the whole body a 400, though, so no
 * megabyte-sized name reaches keys, logs or reasons; display-only fields are clipped where they are shown
 * instead (a Url entity's `friendlyName` can be a long URL).
 */
const ENTITY_FIELDS = {
  aadUserId: boundedValue.optional(),
  accountName: boundedValue.optional(),
  name: boundedValue.optional(),
  upnSuffix: boundedValue.optional(),
  appId: boundedValue.optional(),
  friendlyName: z.unknown().optional(),
  displayName: z.unknown().optional(),
  appName: z.unknown().optional(),
  hostName: z.unknown().optional(),
  address: z.unknown().optional(),
};
export const EntityFields = caseInsensitiveObject(ENTITY_FIELDS);
export type EntityFields = z.infer<typeof EntityFields>;

/**
 * What an object schema made of a value that may not be an object at all. `posted` is the value as sent,
 * kept for how its fields were spelled (reasons quote the sender's key) and for hashing it whole.
 */
export type Lenient<T> = { object: T; posted: Record<string, unknown> } | { notAnObject: string; posted: unknown };

/**
 * `schema` for an object, whose problems are the body's; any other value (a string, a number, null in a list)
 * is kept as `{ notAnObject }` instead of failing, because for an entity that is a verdict on the entity
 * (it names no one), not on the body. zod has no "this schema if an object, else let it through" that keeps
 * the inner problems in place, so the inner schema is run here and its problems re-added under this path.
 */
function lenientObject<T>(schema: z.ZodType<T>) {
  return z.unknown().transform((value, ctx): Lenient<T> | undefined => {
    if (value === undefined) {
      return undefined;
    }
    if (!isRecord(value)) {
      return { notAnObject: describeType(value), posted: value };
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', message: issue.message, path: [...issue.path] });
      }
      return z.NEVER;
    }
    return { object: parsed.data, posted: value };
  });
}

/**
 * One Sentinel entity, in either form it arrives in:
 * - ARM-shaped (incident trigger): `{ id, name, type: 'Microsoft.SecurityInsights/entities', kind: 'Account',
 *   properties: { aadUserId, accountName, upnSuffix, … } }`;
 * - flat (alert trigger): `{ $id, Type: 'account', Name, UPNSuffix, AadUserId, … }`, or `{ $ref }` pointing
 *   at an entity defined elsewhere in the alert.
 * Keys match in any letter case. Neither `kind` nor `type` is required: the entity trigger's `Entity` may
 * carry neither.
 */
export const SentinelEntity = lenientObject(
  caseInsensitiveObject({
    kind: boundedValue.optional(),
    type: boundedValue.optional(),
    $ref: z.unknown().optional(),
    properties: lenientObject(EntityFields).optional(),
    ...ENTITY_FIELDS,
  }),
);
export type SentinelEntity = z.infer<typeof SentinelEntity>;

/**
 * A list of entities: an array, or (as the alert trigger sometimes sends `Entities`) the JSON text of one,
 * parsed with the same depth limit as a body. At most {@link MAX_ENTITIES}, checked before any entity is read.
 */
export const EntityList = z.preprocess(
  (value, ctx) => {
    let list = value;
    if (typeof list === 'string') {
      const parsed = parseJsonText(list);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: `is a string but not a JSON array of entities: ${parsed.problem.message}` });
        return value;
      }
      list = parsed.value;
    }
    if (!Array.isArray(list)) {
      return list; // the array schema names the type
    }
    if (list.length > MAX_ENTITIES) {
      ctx.addIssue({ code: 'custom', message: tooManyEntities() });
      return value;
    }
    return ownElements(list);
  },
  z.array(SentinelEntity, { error: (issue) => `must be an array of entities, got ${describeType(issue.input)}` }),
);

/** The problem for a list that takes the body past {@link MAX_ENTITIES}. */
function tooManyEntities(): string {
  return `has too many entities: at most ${MAX_ENTITIES} are read from one body`;
}

/**
 * Refuses a body whose entity lists hold more than {@link MAX_ENTITIES} together, naming the list (by its
 * schema path, spelled as posted) that goes past the limit. Each list was checked alone by {@link EntityList}.
 */
export function assertEntityBudget(lists: ReadonlyArray<{ path: ReadonlyArray<string | number>; list: readonly SentinelEntity[] }>, posted: PostedBody, message: string): void {
  let total = 0;
  for (const { path, list } of lists) {
    total += list.length;
    if (total > MAX_ENTITIES) {
      throw new ValidationError(message, [{ field: posted.path(path), message: tooManyEntities() }]);
    }
  }
}
