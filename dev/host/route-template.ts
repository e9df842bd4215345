/**
 * ASP.NET-style route templates as the Functions runtime accepts them: `{id}`, `{id?}`, `{id:guid}`,
 * `{id:int?}`, `{name=default}`, `{*rest}`. Common constraints restrict matching; others (length, min, ...) are
 * accepted and ignored, so a template valid in Azure never fails to load here.
 */
export interface RouteTemplate {
  template: string;
  /** Sort key: literal segments before constrained, plain, optional and catch-all parameters (ASP.NET order). */
  precedence: number[];
  match(path: string): Record<string, string> | undefined;
}

interface ParamToken {
  name: string;
  pattern: string;
  optional: boolean;
  catchAll: boolean;
  constrained: boolean;
  defaultValue?: string;
}

const constraintPatterns: Record<string, string> = {
  int: '-?\\d+',
  long: '-?\\d+',
  bool: '(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])',
  alpha: '[A-Za-z]+',
  double: '-?\\d+(?:\\.\\d+)?',
  decimal: '-?\\d+(?:\\.\\d+)?',
  float: '-?\\d+(?:\\.\\d+)?',
  guid: '(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{32}|\\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\\})',
};

export function compileRouteTemplate(template: string): RouteTemplate {
  const trimmed = template.replace(/^\/+|\/+$/g, '');
  const segments = trimmed.length > 0 ? trimmed.split('/') : [];
  const params: ParamToken[] = [];
  const precedence: number[] = [];
  let source = '^';

  segments.forEach((segment, index) => {
    const parts = splitSegment(segment);
    const onlyParam = parts.length === 1 && typeof parts[0] !== 'string' ? parts[0] : undefined;
    if (onlyParam?.catchAll) {
      if (index !== segments.length - 1) {
        throw new Error(`Route '${template}': a catch-all parameter must be the last segment`);
      }
      source += `(?:/(?<p${params.push(onlyParam) - 1}>.*))?`;
      precedence.push(5);
      return;
    }
    if (onlyParam?.optional) {
      source += `(?:/(?<p${params.push(onlyParam) - 1}>${onlyParam.pattern}))?`;
      precedence.push(4);
      return;
    }
    let segmentSource = '';
    let rank = 1;
    for (const part of parts) {
      if (typeof part === 'string') {
        segmentSource += escapeRegExp(part);
      } else {
        // Named groups keep parameter positions right even when a regex() constraint has its own groups.
        segmentSource += `(?<p${params.push(part) - 1}>${part.pattern})`;
        rank = Math.max(rank, part.constrained ? 2 : 3);
      }
    }
    source += `/${segmentSource}`;
    precedence.push(rank);
  });
  // Trailing slashes do not change which route matches.
  const regex = new RegExp(`${source}/?$`, 'i');

  return {
    template: trimmed,
    precedence,
    match(path: string): Record<string, string> | undefined {
      const normalized = path.length === 0 || path.startsWith('/') ? path : `/${path}`;
      const m = regex.exec(normalized);
      if (!m) {
        return undefined;
      }
      const values: Record<string, string> = {};
      params.forEach((p, i) => {
        const raw = m.groups?.[`p${i}`];
        if (raw !== undefined && raw !== '') {
          values[p.name] = safeDecode(raw, p.catchAll);
        } else if (p.defaultValue !== undefined) {
          values[p.name] = p.defaultValue;
        }
      });
      return values;
    },
  };
}

/** Orders routes so the most specific wins, as ASP.NET routing does. */
export function compareRoutePrecedence(a: RouteTemplate, b: RouteTemplate): number {
  const length = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < length; i++) {
    const pa = a.precedence[i];
    const pb = b.precedence[i];
    if (pa === undefined || pb === undefined) {
      return pa === undefined ? 1 : -1;
    }
    if (pa !== pb) {
      return pa - pb;
    }
  }
  return 0;
}

function splitSegment(segment: string): (string | ParamToken)[] {
  const parts: (string | ParamToken)[] = [];
  const tokenRe = /\{([^{}]+)\}/g;
  let last = 0;
  for (let m = tokenRe.exec(segment); m !== null; m = tokenRe.exec(segment)) {
    if (m.index > last) {
      parts.push(segment.slice(last, m.index));
    }
    parts.push(parseParam(m[1] ?? ''));
    last = m.index + m[0].length;
  }
  if (last < segment.length) {
    parts.push(segment.slice(last));
  }
  return parts;
}

function parseParam(body: string): ParamToken {
  let text = body.trim();
  const catchAll = text.startsWith('*');
  text = text.replace(/^\*+/, '');
  let defaultValue: string | undefined;
  const eq = text.indexOf('=');
  if (eq >= 0) {
    defaultValue = text.slice(eq + 1);
    text = text.slice(0, eq);
  }
  const optional = text.endsWith('?');
  text = text.replace(/\?$/, '');
  const [name = '', ...constraints] = splitConstraints(text);
  let pattern = catchAll ? '.*' : '[^/]+';
  let constrained = false;
  for (const constraint of constraints) {
    const regexMatch = /^regex\((.*)\)$/i.exec(constraint);
    const known = constraintPatterns[constraint.toLowerCase()];
    if (regexMatch?.[1] !== undefined) {
      pattern = `(?:${stripAnchors(regexMatch[1])})`;
      constrained = true;
    } else if (known) {
      pattern = known;
      constrained = true;
    } else {
      constrained = true;
    }
  }
  return { name, pattern, optional: optional || defaultValue !== undefined, catchAll, constrained, defaultValue };
}

/** Splits `name:c1:regex(a:b)` on colons outside parentheses. */
function splitConstraints(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') {
      depth++;
    } else if (ch === ')') {
      depth--;
    }
    if (ch === ':' && depth === 0) {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out;
}

function stripAnchors(pattern: string): string {
  return pattern.replace(/^\^/, '').replace(/\$$/, '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function safeDecode(value: string, keepSlashes: boolean): string {
  try {
    return keepSlashes ? value.split('/').map(decodeURIComponent).join('/') : decodeURIComponent(value);
  } catch {
    return value;
  }
}
