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
 * The own keys of `obj` by lower-case name, each the first spelling in `Object.keys` order: the key
 * {@link caseInsensitiveObject} reads a field from.
 */
export function ownKeysByLowerName(obj: Record<string, unknown>): Map<string, string> {
  const index = new Map<string, string>();
  for (const key of Object.keys(obj)) {
    const lower = key.toLowerCase();
    if (!index.has(lower)) {
      index.set(lower, key);
    }
  }
  return index;
}

/** The key `obj` spells `name` with (see {@link ownKeysByLowerName}), or undefined when it has none. */
export function findOwnKey(obj: Record<string, unknown>, name: string): string | undefined {
  return ownKeysByLowerName(obj).get(name.toLowerCase());
}

function fold(value: Record<string, unknown>, byLowerName: ReadonlyMap<string, string>, ctx: z.RefinementCtx): Record<string, unknown> {
  // Null prototypes: the shape's own names are the only keys a lookup can find. Absent and null both read
  // as undefined, which optional fields accept and required ones name as missing. This runs for every
  // entity of a body, so it allocates little: a second spelling of a field is rare.
  const out = Object.create(null) as Record<string, unknown>;
  const firstKey = Object.create(null) as Record<string, string>;
  let clashes: Map<string, string[]> | undefined;
  for (const key of Object.keys(value)) {
    const name = byLowerName.get(key.toLowerCase());
    if (name === undefined) {
      continue; // not a field of this shape: never read, so never checked
    }
    const v = ownValue(value, key);
    const first = firstKey[name];
    if (first === undefined) {
      firstKey[name] = key;
      out[name] = v ?? undefined;
    } else if (!sameValue(out[name], v)) {
      clashes ??= new Map();
      const keys = clashes.get(name);
      if (keys === undefined) {
        clashes.set(name, [first, key]);
      } else {
        keys.push(key);
      }
    }
  }
  for (const [name, keys] of clashes ?? []) {
    out[name] = undefined;
    // A long key has thousands of spellings; the message names a few.
    const named = keys.length > MAX_SPELLINGS_NAMED ? [...keys.slice(0, MAX_SPELLINGS_NAMED), '…'] : keys;
    ctx.addIssue({ code: 'custom', path: [name], message: `appears more than once with different letter case (${named.join(', ')})` });
  }
  return out;
}

const MAX_SPELLINGS_NAMED = 5;

/** Primitives compare by value (`null` and absent alike); two objects under clashing keys always differ. */
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (a === null && b === undefined) || (a === undefined && b === null);
}
