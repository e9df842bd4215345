import { hasLoneSurrogate } from './json-value';

/** Longest UPN accepted; Entra's own limit is far lower (113), so only absurd values are refused. */
export const MAX_UPN_LENGTH = 1024;

/**
 * True when `value` has the shape of a user principal name: exactly one `@` with something on both sides,
 * no whitespace or control characters, no unpaired surrogate (`encodeURIComponent`, which builds the Graph
 * URL, throws on one), at most {@link MAX_UPN_LENGTH} characters. Graph decides whether it exists; this only
 * refuses shapes like `name@` (empty suffix) that Sentinel playbooks are known to produce.
 */
export function isUpn(value: string): boolean {
  const parts = value.split('@');
  return (
    value.length <= MAX_UPN_LENGTH &&
    parts.length === 2 &&
    parts[0] !== '' &&
    parts[1] !== '' &&
    !/[\s\u0000-\u001f\u007f]/.test(value) &&
    !hasLoneSurrogate(value)
  );
}
