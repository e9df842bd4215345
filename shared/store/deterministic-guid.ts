import { createHash } from 'node:crypto';

/** A GUID derived from a name, so a retried ARM comment PUT replaces instead of duplicating. */
export function deterministicGuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
