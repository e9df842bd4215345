import { parseJsonText } from '../http/parse-json-text';
import { ownKeysByLowerName } from './case-insensitive-object';
import { isRecord, ownValue } from './json-value';

/**
 * The body as the sender posted it, for the two things a parsed value no longer knows: how each field was
 * spelled (a problem or a rejected entity is named `Object.Properties.RelatedEntities[4]` when that is what
 * the playbook sent, not the schema's `object.properties.relatedEntities[4]`), and the raw value at a path
 * (an entity list posted as JSON text reads as the array it holds).
 *
 * Paths are given as zod gives them: the schema's key names and array indexes. Keys are matched ignoring
 * case, first own key first, exactly as {@link caseInsensitiveObject} reads them.
 */
export class PostedBody {
  private readonly keyIndex = new WeakMap<object, Map<string, string>>();
  private readonly parsedTexts = new Map<string, unknown>();

  constructor(private readonly body: unknown) {}

  /**
   * The JSON path of `path` as the sender spelled it: `a.b[2].c`, or `$` for the body itself. Segments the
   * body does not hold are kept as the schema names them.
   */
  path(path: readonly PropertyKey[]): string {
    return this.walk(path).written;
  }

  /** The posted value at `path` (undefined when the body holds none); JSON text of an array reads as the array. */
  value(path: readonly PropertyKey[]): unknown {
    return this.walk(path).node;
  }

  private walk(path: readonly PropertyKey[]): { written: string; node: unknown } {
    let node: unknown = this.body;
    let written = '';
    for (const segment of path) {
      if (typeof segment === 'number') {
        const list = typeof node === 'string' ? this.parsedText(node) : node;
        written += `[${segment}]`;
        node = Array.isArray(list) ? ownValue(list, segment) : undefined;
        continue;
      }
      const name = String(segment);
      const key = isRecord(node) ? (this.spelling(node, name) ?? name) : name;
      written = written === '' ? key : `${written}.${key}`;
      node = isRecord(node) ? ownValue(node, key) : undefined;
    }
    return { written: written === '' ? '$' : written, node };
  }

  /** The key spelling `name` in any case; indexed once per object, as one body can hold many keys. */
  private spelling(obj: Record<string, unknown>, name: string): string | undefined {
    let index = this.keyIndex.get(obj);
    if (index === undefined) {
      index = ownKeysByLowerName(obj);
      this.keyIndex.set(obj, index);
    }
    return index.get(name.toLowerCase());
  }

  /** An entity list posted as JSON text, parsed once however many paths go through it. */
  private parsedText(text: string): unknown {
    if (!this.parsedTexts.has(text)) {
      const parsed = parseJsonText(text);
      this.parsedTexts.set(text, parsed.ok ? parsed.value : undefined);
    }
    return this.parsedTexts.get(text);
  }
}
