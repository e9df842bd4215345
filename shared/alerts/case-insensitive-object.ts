import { z } from 'zod';
import { describeType, isRecord, ownValue } from './json-value';

/**
 * `z.object(shape)` whose keys match the body's in any letter case: Sentinel playbooks send the same field as
 * `upnSuffix`, `UPNSuffix` or `UpnSuffix` (reference/sentinel/payloads.md: "Accept both casings for every
 * field"), and zod matches keys exactly.
 *
 * This is the one thing the schemas cannot say themselves, so it is a small preprocess they all run through:
 * it copies each field of `shape` from the first own data property whose name matches ignoring case (never a
 * getter, never the prototype chain, so `__proto__` and `constructor` are plain data that no shape names),
 * drops `null` (Logic Apps write it for empty fields) so that it reads as absent, and refuses a field given
 * twice in different letter case with different values: picking one would be guessing what the sender
 * meant. Everything else — types, limits, required fields — is the schema's, and problems are reported
 * under the shape's own key; {@link PostedBody} turns paths back into the sender's spelling.
 *
 * @example
 * const WorkspaceInfo = caseInsensitiveObject({ SubscriptionId: z.string().optional() });
 * WorkspaceInfo.parse({ subscriptionId: '1111…' }); // { SubscriptionId: '1111…' }
 */
export function caseInsensitiveObject<S extends z.core.$ZodLooseShape>(shape: S) {
  const byLowerName = new Map(Object.keys(shape).map((key) => [key.toLowerCase(), key]));
  return z.preprocess(
    (value, ctx) => (isRecord(value) ? fold(value, byLowerName, ctx) : value),
    z.object(shape, { error: (issue) => objectTypeMessage(issue.input) }),
  );
}

/** `is required (an object)` for an absent value, `must be an object, got …` for any other. */
export function objectTypeMessage(input: unknown): string {
  return input === undefined ? 'is required (an object)' : `must be an object, got ${describeType(input)}`;
}

/**
 * The first own key of `obj` that spells `name` in some letter case, or undefined. "First" is
 * `Object.keys` order, the same key {@link caseInsensitiveObject} reads.
 */
export function findOwnKey(obj: Record<string, unknown>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(obj).find((key) => key.toLowerCase() === lower);
}

interface Spelling {
  readonly key: string;
  readonly value: unknown;
  /** Other spellings that hold a different value. */
  readonly clashes: string[];
}

function fold(value: Record<string, unknown>, byLowerName: ReadonlyMap<string, string>, ctx: z.RefinementCtx): Record<string, unknown> {
  const found = new Map<string, Spelling>();
  for (const key of Object.keys(value)) {
    const name = byLowerName.get(key.toLowerCase());
    if (name === undefined) {
      continue; // not a field of this shape: never read, so never checked
    }
    const v = ownValue(value, key);
    const first = found.get(name);
    if (first === undefined) {
      found.set(name, { key, value: v, clashes: [] });
    } else if (!sameValue(first.value, v)) {
      first.clashes.push(key);
    }
  }
  // A null prototype: the shape's own names are the only keys a lookup can find.
  const out = Object.create(null) as Record<string, unknown>;
  for (const [name, { key, value: v, clashes }] of found) {
    if (clashes.length > 0) {
      ctx.addIssue({ code: 'custom', path: [name], message: `appears more than once with different letter case (${[key, ...clashes].join(', ')})` });
    } else if (v !== null && v !== undefined) {
      out[name] = v;
    }
  }
  return out;
}

/** Primitives compare by value (`null` and absent alike); two objects under clashing keys always differ. */
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (a === null && b === undefined) || (a === undefined && b === null);
}
