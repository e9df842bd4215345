import { createHash } from 'node:crypto';

/**
 * A storage key (row key, partition key, blob name part) derived from values that may come from a caller:
 * the hex SHA-256 of their JSON text, cut to 40 characters (160 bits). Nothing a caller sends ever reaches a
 * key raw, so NUL, lone surrogates, `/ \ # ?`, `%` or 4,096-character ids cannot break a write.
 *
 * JSON text, not the raw string, is hashed: `JSON.stringify` escapes lone surrogates, so two different
 * strings never share a key (UTF-8 encoding would turn every lone surrogate into U+FFFD first).
 *
 * @example keyOf('oid:1f0c…') // 'a3c9…' (40 hex characters)
 */
export function keyOf(...parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
}
