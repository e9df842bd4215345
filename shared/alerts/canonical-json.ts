import { createHash } from 'node:crypto';
import { isGuid } from '../is-guid';

/** Deeper values are not canonicalised; bodies from `readJsonBody` never get this deep anyway. */
const MAX_DEPTH = 64;

/**
 * A canonical JSON text for hashing: object keys lower-cased and sorted, GUID strings lower-cased, so the
 * same entity posted in PascalCase or camelCase, in any key order, hashes the same. Depth is bounded:
 * returns undefined beyond 64 levels instead of recursing without bound.
 *
 * @example
 * canonicalJson({ B: 1, a: 'ABCDEF01-…' }) === canonicalJson({ a: 'abcdef01-…', b: 1 }); // true
 */
export function canonicalJson(value: unknown): string | undefined {
  return write(value, 0);
}

/** First 16 hex digits of the SHA-256 of `text`: short enough for keys, long enough not to collide. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
}

function write(value: unknown, depth: number): string | undefined {
  if (depth > MAX_DEPTH) {
    return undefined;
  }
  if (typeof value === 'string') {
    return JSON.stringify(isGuid(value) ? value.toLowerCase() : value);
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  }
  if (typeof value === 'boolean' || value === null) {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (let i = 0; i < value.length; i++) {
      const part = write(Object.getOwnPropertyDescriptor(value, i)?.value, depth + 1);
      if (part === undefined) {
        return undefined;
      }
      parts.push(part);
    }
    return `[${parts.join(',')}]`;
  }
  if (typeof value === 'object') {
    const entries: Array<[string, string, string]> = [];
    for (const key of Object.keys(value)) {
      const raw: unknown = Object.getOwnPropertyDescriptor(value, key)?.value;
      if (raw === undefined) {
        continue; // as JSON.stringify does
      }
      const part = write(raw, depth + 1);
      if (part === undefined) {
        return undefined;
      }
      entries.push([key.toLowerCase(), key, part]);
    }
    entries.sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]));
    return `{${entries.map(([lower, , part]) => `${JSON.stringify(lower)}:${part}`).join(',')}}`;
  }
  return 'null'; // undefined, functions, symbols, bigint: not JSON
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
