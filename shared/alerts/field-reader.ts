import type { FieldProblem } from '../errors';

/** Longest string read from any field (the alert trigger's `Entities` string is read with its own limit). */
export const MAX_FIELD_LENGTH = 10_000;

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field found in a body: the key as written, its JSON path and its value. */
export interface FoundField {
  readonly key: string;
  readonly path: string;
  readonly value: unknown;
}

interface OwnEntry {
  readonly key: string;
  readonly value: unknown;
  /** Other keys that differ only by letter case and hold a different value. */
  readonly clashes: string[];
}

/** `base.key`, or `key` at the root. */
export function childPath(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

/** `base[index]`. */
export function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

/**
 * Reads Sentinel bodies, whose field names arrive in PascalCase or camelCase depending on the playbook,
 * without trusting them: only own properties are read (through property descriptors, so `__proto__`,
 * `constructor` or getters never come into play), names are matched ignoring case, and every problem is
 * collected with its JSON path so one 400 can name all of them.
 */
export class FieldReader {
  private readonly problemList: FieldProblem[] = [];
  private readonly seen = new Set<string>();
  private readonly index = new WeakMap<object, Map<string, OwnEntry>>();

  /** Problems so far, one per field (the first found). */
  get problems(): FieldProblem[] {
    return [...this.problemList];
  }

  /** Records a problem with a field; later problems with the same field are dropped. */
  problem(field: string, message: string): void {
    if (!this.seen.has(field)) {
      this.seen.add(field);
      this.problemList.push({ field, message });
    }
  }

  /**
   * The first of `names` present on `obj` (case-insensitive), or undefined. `null` counts as absent, as
   * Logic Apps write `null` for fields they have no value for. A string longer than `maxLength` is a
   * problem (and reads as absent), so no code downstream ever handles megabyte-sized "names".
   */
  get(obj: Record<string, unknown>, base: string, names: readonly string[], maxLength = MAX_FIELD_LENGTH): FoundField | undefined {
    const entries = this.entriesOf(obj);
    for (const name of names) {
      const entry = entries.get(name.toLowerCase());
      if (entry === undefined) {
        continue;
      }
      const path = childPath(base, entry.key);
      if (entry.clashes.length > 0) {
        // Two spellings with different values: picking one would be guessing which the sender meant.
        this.problem(path, `appears more than once with different letter case (${[entry.key, ...entry.clashes].join(', ')})`);
        return undefined;
      }
      if (entry.value === null || entry.value === undefined) {
        return undefined;
      }
      if (typeof entry.value === 'string' && entry.value.length > maxLength) {
        this.problem(path, `is longer than ${maxLength} characters`);
        return undefined;
      }
      return { key: entry.key, path, value: entry.value };
    }
    return undefined;
  }

  /** A string field; any other type present is a problem. Absent gives undefined, or a problem if `required`. */
  string(obj: Record<string, unknown>, base: string, names: readonly string[], required = false): string | undefined {
    const found = this.get(obj, base, names);
    if (found === undefined) {
      if (required) {
        this.requireMissing(obj, base, names, 'a string');
      }
      return undefined;
    }
    if (typeof found.value !== 'string') {
      this.problem(found.path, `must be a string, got ${describeType(found.value)}`);
      return undefined;
    }
    if (required && found.value.trim() === '') {
      this.problem(found.path, 'must not be empty');
      return undefined;
    }
    return found.value;
  }

  /** An object field; any other type present is a problem. */
  record(obj: Record<string, unknown>, base: string, names: readonly string[], required = false): FoundField & { value: Record<string, unknown> } | undefined {
    const found = this.get(obj, base, names);
    if (found === undefined) {
      if (required) {
        this.requireMissing(obj, base, names, 'an object');
      }
      return undefined;
    }
    if (!isRecord(found.value)) {
      this.problem(found.path, `must be an object, got ${describeType(found.value)}`);
      return undefined;
    }
    return { key: found.key, path: found.path, value: found.value };
  }

  /** Own enumerable properties, indexed by lower-case name; built once per object. */
  private entriesOf(obj: Record<string, unknown>): Map<string, OwnEntry> {
    let entries = this.index.get(obj);
    if (entries !== undefined) {
      return entries;
    }
    entries = new Map<string, OwnEntry>();
    for (const key of Object.keys(obj)) {
      const value = ownValue(obj, key);
      const lower = key.toLowerCase();
      const existing = entries.get(lower);
      if (existing === undefined) {
        entries.set(lower, { key, value, clashes: [] });
      } else if (!sameValue(existing.value, value)) {
        existing.clashes.push(key);
      }
    }
    this.index.set(obj, entries);
    return entries;
  }

  private requireMissing(obj: Record<string, unknown>, base: string, names: readonly string[], what: string): void {
    const entry = this.entriesOf(obj).get((names[0] ?? '').toLowerCase());
    if (entry !== undefined && entry.clashes.length > 0) {
      return; // already reported as a clash
    }
    this.problem(childPath(base, entry?.key ?? names[0] ?? ''), `is required (${what})`);
  }
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

function sameValue(a: unknown, b: unknown): boolean {
  // Primitives compare by value; two objects under clashing keys are treated as different.
  return a === b || (a === null && b === undefined) || (a === undefined && b === null);
}
