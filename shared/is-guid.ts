/** A GUID in its usual 8-4-4-4-12 hex form, any letter case. */
export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a string holding a GUID (8-4-4-4-12 hex, any case, no braces or whitespace). */
export function isGuid(value: unknown): value is string {
  return typeof value === 'string' && GUID_PATTERN.test(value);
}
