/** Why a JSON text was refused, with the 0-based character offset where the problem starts. */
export interface JsonTextProblem {
  readonly kind: 'empty' | 'syntax' | 'depth';
  readonly position: number;
  /** Describes the problem by position only: it never quotes the text, which may hold secrets or PII. */
  readonly message: string;
}

export type JsonTextResult = { ok: true; value: unknown } | { ok: false; problem: JsonTextProblem };

/** Nesting allowed by default; deeper bodies are refused before `JSON.parse` ever sees them. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * Parses a JSON text after checking it with a non-recursive scanner, so that a syntax error is reported by
 * position (V8's own messages quote the offending text, which would echo the caller's body back) and so
 * that nesting beyond `maxDepth` is refused without risking a stack overflow anywhere downstream.
 *
 * @example
 * parseJsonText('{"a":[1,2]}');          // { ok: true, value: { a: [1, 2] } }
 * parseJsonText('{"a":}').ok;            // false, problem.position === 5
 */
export function parseJsonText(text: string, maxDepth: number = DEFAULT_MAX_JSON_DEPTH): JsonTextResult {
  const problem = scanJson(text, maxDepth);
  if (problem) {
    return { ok: false, problem };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    // The scanner follows RFC 8259 exactly, so this is unreachable in practice; stay safe all the same.
    return { ok: false, problem: { kind: 'syntax', position: 0, message: 'Invalid JSON.' } };
  }
}

type Ctx = 'array' | 'object';

/** Returns the first problem in `text`, or undefined when it is one valid JSON value. */
function scanJson(text: string, maxDepth: number): JsonTextProblem | undefined {
  const n = text.length;
  const stack: Ctx[] = [];
  let i = 0;

  const fail = (position: number, what: string): JsonTextProblem => ({
    kind: 'syntax',
    position,
    message: `Invalid JSON at ${describePosition(text, position)}: ${what}.`,
  });
  const skipWs = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) {
        return;
      }
      i++;
    }
  };

  skipWs();
  if (i >= n) {
    return { kind: 'empty', position: 0, message: 'The JSON text is empty.' };
  }

  // Each turn reads one value, then the punctuation after it, until the outermost value is closed.
  for (;;) {
    skipWs();
    if (i >= n) {
      return fail(i, 'unexpected end of input, expected a value');
    }
    const c = text[i];
    if (c === '{' || c === '[') {
      if (stack.length >= maxDepth) {
        return {
          kind: 'depth',
          position: i,
          message: `JSON nested deeper than ${maxDepth} levels at ${describePosition(text, i)}.`,
        };
      }
      i++;
      skipWs();
      const close = c === '{' ? '}' : ']';
      if (text[i] === close) {
        i++;
      } else {
        stack.push(c === '{' ? 'object' : 'array');
        if (c === '{') {
          const p = readKey();
          if (p) {
            return p;
          }
        }
        continue;
      }
    } else if (c === '"') {
      const p = readString();
      if (p) {
        return p;
      }
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const p = readNumber();
      if (p) {
        return p;
      }
    } else if (text.startsWith('true', i)) {
      i += 4;
    } else if (text.startsWith('false', i)) {
      i += 5;
    } else if (text.startsWith('null', i)) {
      i += 4;
    } else {
      return fail(i, 'unexpected character, expected a value');
    }

    // After a complete value: close containers or move to the next element.
    for (;;) {
      skipWs();
      const top = stack[stack.length - 1];
      if (top === undefined) {
        return i < n ? fail(i, 'unexpected data after the JSON value') : undefined;
      }
      if (i >= n) {
        return fail(i, `unexpected end of input, expected ',' or '${top === 'object' ? '}' : ']'}'`);
      }
      const d = text[i];
      if (d === ',') {
        i++;
        if (top === 'object') {
          skipWs();
          const p = readKey();
          if (p) {
            return p;
          }
        }
        break;
      }
      if ((top === 'object' && d === '}') || (top === 'array' && d === ']')) {
        i++;
        stack.pop();
        continue;
      }
      return fail(i, `unexpected character, expected ',' or '${top === 'object' ? '}' : ']'}'`);
    }
  }

  /** Reads `"key" :` and leaves `i` on the value. */
  function readKey(): JsonTextProblem | undefined {
    skipWs();
    if (text[i] !== '"') {
      return fail(i, 'expected a property name in double quotes');
    }
    const p = readString();
    if (p) {
      return p;
    }
    skipWs();
    if (text[i] !== ':') {
      return fail(i, "expected ':' after the property name");
    }
    i++;
    return undefined;
  }

  function readString(): JsonTextProblem | undefined {
    const start = i;
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) {
        return fail(i, 'control character in a string');
      }
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            return fail(i, 'invalid \\u escape');
          }
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) {
          return fail(i, 'invalid escape in a string');
        }
        i += 2;
        continue;
      }
      i++;
    }
    return fail(start, 'unterminated string');
  }

  function readNumber(): JsonTextProblem | undefined {
    const m = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    m.lastIndex = i;
    const found = m.exec(text);
    if (!found || found[0] === '-' || found[0].length === 0) {
      return fail(i, 'invalid number');
    }
    i += found[0].length;
    const next = text[i];
    // "01", "1.", "1e" and the like: the regex stopped early on a character that continues a number.
    if (next !== undefined && /[0-9.eE+-]/.test(next)) {
      return fail(i, 'invalid number');
    }
    return undefined;
  }
}

/** `line L, column C (position P)`, 1-based line and column, so a caller can find the spot in an editor. */
function describePosition(text: string, position: number): string {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < position && k < text.length; k++) {
    if (text.charCodeAt(k) === 0x0a) {
      line++;
      lineStart = k + 1;
    }
  }
  return `line ${line}, column ${position - lineStart + 1} (position ${position})`;
}
