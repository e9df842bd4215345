import { createHash } from 'node:crypto';

/**
 * A GUID derived from a name: a case id from its dedupe key (so the case row itself is the claim), an ARM
 * comment id from its purpose (so a retried PUT replaces instead of duplicating). The JSON text of the name is
 * hashed, so names that differ only in lone surrogates still get different GUIDs.
 */
export function deterministicGuid(name: string): string {
  const h = createHash('sha256').update(JSON.stringify(name)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
