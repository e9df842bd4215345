/**
 * True when `value` has the shape of a user principal name: exactly one `@` with something on both sides,
 * and no whitespace or control characters. Graph decides whether it exists; this only refuses shapes like
 * `name@` (empty suffix) that Sentinel playbooks are known to produce.
 */
export function isUpn(value: string): boolean {
  const parts = value.split('@');
  return parts.length === 2 && parts[0] !== '' && parts[1] !== '' && !/[\s\u0000-\u001f\u007f]/.test(value);
}
