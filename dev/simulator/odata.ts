/**
 * The OData query options the responders use, with Graph's directory semantics: `$filter` (eq/ne/gt/ge/lt/le,
 * `in`, `startswith`/`endswith`, `any`/`all` lambdas, `and`/`or`/`not`, parentheses; string equality is
 * case-insensitive), `$select`, `$top` and opaque `$skiptoken` paging. Property names are checked against
 * the entity type in the OpenAPI subset, so a misspelt property fails like it does in Graph.
 */

/** A query option the type or the grammar does not allow; the caller answers 400 with this code and message. */
export class ODataError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ODataError';
  }
}

export type Predicate = (obj: Record<string, unknown>) => boolean;

type Token =
  | { kind: 'str'; value: string; pos: number }
  | { kind: 'num'; value: number; pos: number }
  | { kind: 'id'; value: string; pos: number }
  | { kind: 'punct'; value: '(' | ')' | ',' | '/' | ':'; pos: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === "'") {
      let value = '';
      const start = i;
      i++;
      for (;;) {
        if (i >= src.length) {
          throw new ODataError('BadRequest', `Invalid filter clause: unterminated string literal at position ${start}.`);
        }
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += src[i];
        i++;
      }
      out.push({ kind: 'str', value, pos: start });
    } else if ('(),/:'.includes(c)) {
      out.push({ kind: 'punct', value: c as '(' | ')' | ',' | '/' | ':', pos: i });
      i++;
    } else if (/[0-9-]/.test(c) && /^-?\d/.test(src.slice(i, i + 2))) {
      const m = /^-?\d+(\.\d+)?/.exec(src.slice(i));
      const text = m?.[0] ?? c;
      // A GUID or a date starts with digits too; keep those as identifiers-like literals.
      const longer = /^[0-9a-fA-F-]+(T[0-9:.]+Z?)?/.exec(src.slice(i))?.[0] ?? text;
      if (longer.length > text.length) {
        out.push({ kind: 'id', value: longer, pos: i });
        i += longer.length;
      } else {
        out.push({ kind: 'num', value: Number(text), pos: i });
        i += text.length;
      }
    } else if (/[A-Za-z_@$]/.test(c)) {
      const m = /^[A-Za-z_@$][A-Za-z0-9_.@$-]*/.exec(src.slice(i));
      const text = m?.[0] ?? c;
      out.push({ kind: 'id', value: text, pos: i });
      i += text.length;
    } else {
      throw new ODataError('BadRequest', `Invalid filter clause: syntax error at position ${i} in '${src}'.`);
    }
  }
  return out;
}

type Operand = (obj: Record<string, unknown>, vars: Map<string, unknown>) => unknown;
type Bool = (obj: Record<string, unknown>, vars: Map<string, unknown>) => boolean;

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCTIONS = new Set(['startswith', 'endswith', 'contains']);

function norm(v: unknown): unknown {
  return typeof v === 'string' ? v.toLowerCase() : v;
}

function compare(op: string, a: unknown, b: unknown): boolean {
  const x = norm(a);
  const y = norm(b);
  switch (op) {
    case 'eq':
      return x === y || (x === undefined && y === null);
    case 'ne':
      return !(x === y || (x === undefined && y === null));
    default: {
      if (x === null || x === undefined || y === null || y === undefined) {
        return false;
      }
      const xs = x as string | number;
      const ys = y as string | number;
      if (op === 'gt') {
        return xs > ys;
      }
      if (op === 'ge') {
        return xs >= ys;
      }
      if (op === 'lt') {
        return xs < ys;
      }
      return xs <= ys;
    }
  }
}

class FilterParser {
  private i = 0;
  private readonly vars = new Set<string>();

  constructor(
    private readonly tokens: Token[],
    private readonly src: string,
    private readonly properties: Map<string, string>,
    private readonly typeName: string,
  ) {}

  parse(): Bool {
    const e = this.parseOr();
    if (this.i < this.tokens.length) {
      this.fail(this.tokens[this.i]);
    }
    return e;
  }

  private fail(t: Token | undefined): never {
    const pos = t ? t.pos : this.src.length;
    throw new ODataError('BadRequest', `Invalid filter clause: syntax error at position ${pos} in '${this.src}'.`);
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private isWord(word: string, t = this.peek()): boolean {
    return t?.kind === 'id' && t.value.toLowerCase() === word;
  }

  private isPunct(p: string, t = this.peek()): boolean {
    return t?.kind === 'punct' && t.value === p;
  }

  private expectPunct(p: string): void {
    if (!this.isPunct(p)) {
      this.fail(this.peek());
    }
    this.i++;
  }

  private parseOr(): Bool {
    let left = this.parseAnd();
    while (this.isWord('or')) {
      this.i++;
      const l = left;
      const r = this.parseAnd();
      left = (o, v) => l(o, v) || r(o, v);
    }
    return left;
  }

  private parseAnd(): Bool {
    let left = this.parseUnary();
    while (this.isWord('and')) {
      this.i++;
      const l = left;
      const r = this.parseUnary();
      left = (o, v) => l(o, v) && r(o, v);
    }
    return left;
  }

  private parseUnary(): Bool {
    if (this.isWord('not')) {
      this.i++;
      const inner = this.parseUnary();
      return (o, v) => !inner(o, v);
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Bool {
    if (this.isPunct('(')) {
      this.i++;
      const e = this.parseOr();
      this.expectPunct(')');
      return e;
    }
    const t = this.peek();
    let left: Operand;
    if (t?.kind === 'id' && FUNCTIONS.has(t.value.toLowerCase()) && this.isPunct('(', this.tokens[this.i + 1])) {
      left = this.parseFunction(t.value.toLowerCase());
    } else {
      const lambda = this.tryLambda();
      if (lambda) {
        return lambda;
      }
      left = this.parseOperand();
    }
    const op = this.peek();
    if (op?.kind === 'id' && COMPARISONS.has(op.value.toLowerCase())) {
      this.i++;
      const right = this.parseOperand();
      const name = op.value.toLowerCase();
      return (o, v) => compare(name, left(o, v), right(o, v));
    }
    if (this.isWord('in')) {
      this.i++;
      this.expectPunct('(');
      const values: unknown[] = [];
      for (;;) {
        values.push(norm(this.literalValue()));
        if (this.isPunct(',')) {
          this.i++;
          continue;
        }
        break;
      }
      this.expectPunct(')');
      const set = new Set(values);
      return (o, v) => set.has(norm(left(o, v)));
    }
    // A bare boolean operand (a function call or a boolean property).
    return (o, v) => left(o, v) === true;
  }

  private parseFunction(name: string): Operand {
    this.i += 2;
    const a = this.parseOperand();
    this.expectPunct(',');
    const b = this.parseOperand();
    this.expectPunct(')');
    return (o, v) => {
      const x = a(o, v);
      const y = b(o, v);
      if (typeof x !== 'string' || typeof y !== 'string') {
        return false;
      }
      const xs = x.toLowerCase();
      const ys = y.toLowerCase();
      return name === 'startswith' ? xs.startsWith(ys) : name === 'endswith' ? xs.endsWith(ys) : xs.includes(ys);
    };
  }

  /** `tags/any(t:t eq 'x')`, `tags/any()`, `tags/all(t:…)`. */
  private tryLambda(): Bool | undefined {
    const t = this.peek();
    if (t?.kind !== 'id' || !this.isPunct('/', this.tokens[this.i + 1])) {
      return undefined;
    }
    const fn = this.tokens[this.i + 2];
    if (!(this.isWord('any', fn) || this.isWord('all', fn)) || !this.isPunct('(', this.tokens[this.i + 3])) {
      return undefined;
    }
    const collection = this.resolvePath([t.value]);
    const isAll = this.isWord('all', fn);
    this.i += 4;
    if (this.isPunct(')')) {
      this.i++;
      return (o, v) => {
        const arr = collection(o, v);
        return Array.isArray(arr) && arr.length > 0;
      };
    }
    const varTok = this.peek();
    if (varTok?.kind !== 'id') {
      this.fail(varTok);
    }
    this.i++;
    this.expectPunct(':');
    this.vars.add(varTok.value);
    const body = this.parseOr();
    this.vars.delete(varTok.value);
    this.expectPunct(')');
    const name = varTok.value;
    return (o, v) => {
      const arr = collection(o, v);
      if (!Array.isArray(arr)) {
        return false;
      }
      const test = (el: unknown): boolean => {
        const inner = new Map(v);
        inner.set(name, el);
        return body(o, inner);
      };
      return isAll ? arr.every(test) : arr.some(test);
    };
  }

  private literalValue(): unknown {
    const t = this.peek();
    if (!t) {
      this.fail(t);
    }
    this.i++;
    if (t.kind === 'str' || t.kind === 'num') {
      return t.value;
    }
    if (t.kind === 'id') {
      const w = t.value.toLowerCase();
      if (w === 'true') {
        return true;
      }
      if (w === 'false') {
        return false;
      }
      if (w === 'null') {
        return null;
      }
      if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t.value) || /^\d{4}-\d\d-\d\d/.test(t.value)) {
        return t.value;
      }
    }
    this.i--;
    return this.fail(t);
  }

  private parseOperand(): Operand {
    const t = this.peek();
    if (!t) {
      this.fail(t);
    }
    if (t.kind === 'str' || t.kind === 'num') {
      this.i++;
      const value = t.value;
      return () => value;
    }
    if (t.kind === 'id') {
      const w = t.value.toLowerCase();
      if (w === 'true' || w === 'false' || w === 'null' || /^[0-9]/.test(t.value)) {
        const value = this.literalValue();
        return () => value;
      }
      const parts = [t.value];
      this.i++;
      while (this.isPunct('/') && this.tokens[this.i + 1]?.kind === 'id') {
        const next = this.tokens[this.i + 1];
        if (this.isWord('any', next) || this.isWord('all', next)) {
          break;
        }
        parts.push((next as { value: string }).value);
        this.i += 2;
      }
      return this.resolvePath(parts);
    }
    return this.fail(t);
  }

  private resolvePath(parts: string[]): Operand {
    const [head, ...rest] = parts as [string, ...string[]];
    if (this.vars.has(head)) {
      return (_o, v) => dig(v.get(head), rest);
    }
    const canonical = this.properties.get(head.toLowerCase());
    if (!canonical) {
      throw new ODataError('BadRequest', `Could not find a property named '${head}' on type '${this.typeName}'.`);
    }
    return (o) => dig(o[canonical], rest);
  }
}

function dig(value: unknown, path: string[]): unknown {
  let cur = value;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') {
      return undefined;
    }
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** Compile `$filter` for an entity type; throws ODataError for syntax errors and unknown properties. */
export function compileFilter(filter: string, properties: Map<string, string>, typeName: string): Predicate {
  const tokens = tokenize(filter);
  if (tokens.length === 0) {
    throw new ODataError('BadRequest', "Invalid filter clause: the query specified in the URI is not valid.");
  }
  const fn = new FilterParser(tokens, filter, properties, typeName).parse();
  const empty = new Map<string, unknown>();
  return (obj) => fn(obj, empty);
}

/** Parse `$select` into canonical property names; throws ODataError for an unknown property. */
export function parseSelect(select: string, properties: Map<string, string>, typeName: string): Set<string> {
  const out = new Set<string>();
  for (const raw of select.split(',')) {
    const name = raw.trim();
    if (!name) {
      continue;
    }
    if (name === '*') {
      for (const p of properties.values()) {
        out.add(p);
      }
      continue;
    }
    const canonical = properties.get(name.toLowerCase());
    if (!canonical) {
      throw new ODataError('BadRequest', `Could not find a property named '${name}' on type '${typeName}'.`);
    }
    out.add(canonical);
  }
  return out;
}

/** Parse `$top` (1..max). */
export function parseTop(top: string | null, max: number): number | undefined {
  if (top === null) {
    return undefined;
  }
  const n = Number(top);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new ODataError(
      'Request_UnsupportedQuery',
      `Invalid page size specified: '${top}'. Must be between 1 and ${max} inclusive.`,
    );
  }
  return n;
}

const SKIPTOKEN_PREFIX = 'RFNwdAIA';

/** Opaque to clients; it holds the position in the entity set to resume the scan from. */
export function encodeSkipToken(index: number): string {
  return SKIPTOKEN_PREFIX + Buffer.from(`sim:${index}`).toString('base64url');
}

export function decodeSkipToken(token: string): number {
  if (token.startsWith(SKIPTOKEN_PREFIX)) {
    const m = /^sim:(\d+)$/.exec(Buffer.from(token.slice(SKIPTOKEN_PREFIX.length), 'base64url').toString('utf8'));
    if (m?.[1]) {
      return Number(m[1]);
    }
  }
  throw new ODataError('Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.');
}

/**
 * One page of `items` from position `start`: scans until `top` matches are found, so paging through a
 * 100,000-object set costs one pass in total. `next` is where the following page resumes.
 */
export function pageOf<T>(items: readonly T[], keep: (item: T) => boolean, start: number, top: number): { page: T[]; next?: number } {
  const page: T[] = [];
  let i = start;
  for (; i < items.length; i++) {
    const item = items[i] as T;
    if (!keep(item)) {
      continue;
    }
    if (page.length === top) {
      return { page, next: i };
    }
    page.push(item);
  }
  return { page };
}
