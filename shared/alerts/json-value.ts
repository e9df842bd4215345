/**
 * Small, safe readers for untrusted JSON values: own data properties only (never a getter, never the prototype
 * chain), types described without quoting values, and text made safe to store and encode.
 */

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value of an own data property, never running a getter or reaching the prototype chain. */
export function ownValue(obj: object, key: string | number): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(obj, key);
  return descriptor !== undefined && 'value' in descriptor ? (descriptor.value as unknown) : undefined;
}

/** Elements of an array, read as own data properties (holes and accessors read as undefined). */
export function ownElements(arr: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < arr.length; i++) {
    out.push(ownValue(arr, i));
  }
  return out;
}

/** `a string`, `a number`, `an array`, … for messages; never the value itself. */
export function describeType(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  const t = typeof value;
  return t === 'object' || t === 'undefined' ? `an ${t}` : `a ${t}`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** True when `text` holds an unpaired UTF-16 surrogate (which `encodeURIComponent` throws on). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/**
 * `text` with every unpaired surrogate replaced by U+FFFD, as `String.prototype.toWellFormed` (ES2024) does:
 * display text copied from a body must survive UTF-8 encoding, URL encoding and storage unchanged.
 */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATES, '\uFFFD');
}

/**
 * `text` clipped to `max` characters (with `…`) and well-formed. Clipping may split a surrogate pair, which
 * {@link wellFormed} then repairs.
 */
export function clipText(text: string, max: number): string {
  return wellFormed(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** Display text: trimmed, then {@link clipText}. */
export function displayText(text: string, max: number): string {
  return clipText(text.trim(), max);
}
