import { createHash } from 'node:crypto';

/**
 * The token a note carries so a retry can find it: `ar-note-` and 32 hex digits of the note key's SHA-256.
 * Letters, digits and `-` only, so it can sit in a ServiceNow encoded query or a JQL string without escaping,
 * whatever characters the key holds.
 */
export function noteMarker(noteKey: string): string {
  return `ar-note-${createHash('sha256').update(noteKey, 'utf8').digest('hex').slice(0, 32)}`;
}

/**
 * A ticket key as a value safe in a ServiceNow encoded query (`^` separates clauses there) and within
 * `correlation_id`'s 100 characters: the key itself when it is made of `[A-Za-z0-9:._|@-]`, else a hash of it.
 */
export function queryableKey(key: string): string {
  return /^[A-Za-z0-9:._|@-]{1,100}$/.test(key) ? key : `agent-responders:sha256:${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 64)}`;
}
