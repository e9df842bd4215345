import { LOG_ANALYTICS_AUDIENCE, verifyBearer } from './managed-identity';
import type { SimRequest, SimResponse } from './sim-http';
import { isRecord, json, newGuid } from './sim-http';
import type { Knobs, SecurityAlertRow } from './sim-types';
import type { TenantState } from './tenant-state';

/** `POST|GET /v1/workspaces/{workspaceId}/query`: the Log Analytics query API (api.loganalytics.io). */
const QUERY_PATH = /^\/v1\/workspaces\/([^/]+)\/query\/?$/;

/** The `SecurityAlert` table's columns and types, in Log Analytics' order (Microsoft Sentinel security alert schema). */
export const SECURITY_ALERT_COLUMNS: readonly { name: string; type: string }[] = [
  { name: 'TenantId', type: 'string' },
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'DisplayName', type: 'string' },
  { name: 'AlertName', type: 'string' },
  { name: 'AlertSeverity', type: 'string' },
  { name: 'Description', type: 'string' },
  { name: 'ProviderName', type: 'string' },
  { name: 'VendorName', type: 'string' },
  { name: 'VendorOriginalId', type: 'string' },
  { name: 'SystemAlertId', type: 'string' },
  { name: 'ResourceId', type: 'string' },
  { name: 'SourceComputerId', type: 'string' },
  { name: 'AlertType', type: 'string' },
  { name: 'ConfidenceLevel', type: 'string' },
  { name: 'ConfidenceScore', type: 'real' },
  { name: 'IsIncident', type: 'bool' },
  { name: 'StartTime', type: 'datetime' },
  { name: 'EndTime', type: 'datetime' },
  { name: 'ProcessingEndTime', type: 'datetime' },
  { name: 'RemediationSteps', type: 'string' },
  { name: 'ExtendedProperties', type: 'string' },
  { name: 'Entities', type: 'string' },
  { name: 'SourceSystem', type: 'string' },
  { name: 'WorkspaceSubscriptionId', type: 'string' },
  { name: 'WorkspaceResourceGroup', type: 'string' },
  { name: 'ExtendedLinks', type: 'string' },
  { name: 'ProductName', type: 'string' },
  { name: 'ProductComponentName', type: 'string' },
  { name: 'AlertLink', type: 'string' },
  { name: 'Status', type: 'string' },
  { name: 'CompromisedEntity', type: 'string' },
  { name: 'Tactics', type: 'string' },
  { name: 'Techniques', type: 'string' },
  { name: 'SubTechniques', type: 'string' },
  { name: 'Type', type: 'string' },
];

/** A Log Analytics error: `{ error: { message, code, correlationId, innererror? } }`. */
function laError(status: number, code: string, message: string, inner?: { code: string; message: string }): SimResponse {
  return json(status, { error: { message, code, correlationId: newGuid(), ...(inner ? { innererror: inner } : {}) } });
}

const syntaxError = (message: string): SimResponse => laError(400, 'BadArgumentError', 'The request had some invalid properties', { code: 'SyntaxError', message });
const semanticError = (message: string): SimResponse => laError(400, 'BadArgumentError', 'The request had some invalid properties', { code: 'SemanticError', message });

type Token = { kind: 'ident' | 'string' | 'number' | 'op'; text: string };

/** Splits KQL into tokens: identifiers, numbers, string literals (escapes decoded), operators; `//` comments dropped. */
function tokenize(query: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (query.startsWith('//', i)) {
      const end = query.indexOf('\n', i);
      i = end < 0 ? query.length : end + 1;
    } else if (c === "'" || c === '"' || ((c === '@' || c === 'h' || c === 'H') && (query[i + 1] === "'" || query[i + 1] === '"'))) {
      const verbatim = c === '@';
      const start = c === "'" || c === '"' ? i : i + 1;
      const quote = query[start] as string;
      let value = '';
      let j = start + 1;
      for (; j < query.length && query[j] !== quote; j++) {
        const ch = query[j] as string;
        if (ch === '\n') {
          return 'a string literal cannot span lines';
        }
        if (ch === '\\' && !verbatim) {
          const next = query[j + 1];
          const decoded = next === 'n' ? '\n' : next === 't' ? '\t' : next === '\\' || next === "'" || next === '"' ? next : undefined;
          if (decoded === undefined) {
            return `unsupported escape \\${next ?? ''}`;
          }
          value += decoded;
          j++;
        } else {
          value += ch;
        }
      }
      if (j >= query.length) {
        return 'unterminated string literal';
      }
      tokens.push({ kind: 'string', text: value });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(query.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(query.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else {
      const op = ['==', '=~', '!=', '|', '(', ')', ',', '*'].find((o) => query.startsWith(o, i));
      if (!op) {
        return `unexpected character '${c}'`;
      }
      tokens.push({ kind: 'op', text: op });
      i += op.length;
    }
  }
  return tokens;
}

type Row = Record<string, unknown>;
type Stage = (rows: Row[]) => Row[];

/** A cell as text, the way KQL compares a string column. */
const textOf = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));

const isColumn = (name: string) => SECURITY_ALERT_COLUMNS.some((c) => c.name === name);

/** `where Col == 'x' [and Col =~ 'y' …]` */
function whereStage(args: Token[]): Stage | string {
  const tests: ((r: Row) => boolean)[] = [];
  for (let i = 0; i < args.length; i += 4) {
    const [col, op, value, joiner] = [args[i], args[i + 1], args[i + 2], args[i + 3]];
    if (col?.kind !== 'ident' || op?.kind !== 'op' || !['==', '=~', '!='].includes(op.text) || value?.kind !== 'string') {
      return "the simulator's where takes only: Column == 'string' [and …]";
    }
    if (joiner !== undefined && !(joiner.kind === 'ident' && joiner.text === 'and')) {
      return `unexpected '${joiner.text}' in where`;
    }
    if (!isColumn(col.text)) {
      return `semantic:Failed to resolve scalar expression named '${col.text}'`;
    }
    const text = (r: Row) => textOf(r[col.text]);
    tests.push(
      op.text === '==' ? (r) => text(r) === value.text : op.text === '=~' ? (r) => text(r).toLowerCase() === value.text.toLowerCase() : (r) => text(r) !== value.text,
    );
  }
  return (rows) => rows.filter((r) => tests.every((t) => t(r)));
}

/** `summarize arg_max(TimeGenerated, *) by Col`: the latest row per value of Col, Col first. */
function summarizeStage(args: Token[]): Stage | string {
  const shape = args.map((t) => t.text).join(' ');
  const m = /^arg_max \( TimeGenerated , \* \) by ([A-Za-z_][A-Za-z0-9_]*)$/.exec(shape);
  if (!m || !isColumn(m[1] as string)) {
    return "the simulator's summarize takes only: arg_max(TimeGenerated, *) by Column";
  }
  const by = m[1] as string;
  return (rows) => {
    const latest = new Map<string, Row>();
    for (const r of rows) {
      const key = textOf(r[by]);
      const seen = latest.get(key);
      if (!seen || Date.parse(textOf(r.TimeGenerated)) > Date.parse(textOf(seen.TimeGenerated))) {
        latest.set(key, r);
      }
    }
    return [...latest.values()].map((r) => ({ [by]: r[by], TimeGenerated: r.TimeGenerated, ...r }));
  };
}

/** Compiles the KQL subset the responder sends: `SecurityAlert | where … | summarize … | take N`. */
export function compileQuery(query: string): { stages: Stage[]; byFirst?: string } | SimResponse {
  const tokens = tokenize(query);
  if (typeof tokens === 'string') {
    return syntaxError(`Query could not be parsed: ${tokens}`);
  }
  const parts: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind === 'op' && t.text === '|') {
      parts.push([]);
    } else {
      (parts[parts.length - 1] as Token[]).push(t);
    }
  }
  const [source, ...ops] = parts;
  if (source?.length !== 1 || source[0]?.kind !== 'ident') {
    return syntaxError('Query could not be parsed: a query starts with a table name');
  }
  if (source[0].text !== 'SecurityAlert') {
    return semanticError(`'${source[0].text}' operator: Failed to resolve table or column expression named '${source[0].text}'`);
  }
  const stages: Stage[] = [];
  let byFirst: string | undefined;
  for (const op of ops) {
    const [head, ...args] = op;
    let stage: Stage | string;
    if (head?.kind === 'ident' && head.text === 'where') {
      stage = whereStage(args);
    } else if (head?.kind === 'ident' && head.text === 'summarize') {
      stage = summarizeStage(args);
      byFirst = args[args.length - 1]?.text;
    } else if (head?.kind === 'ident' && (head.text === 'take' || head.text === 'limit') && args.length === 1 && args[0]?.kind === 'number') {
      const n = Number(args[0].text);
      stage = (rows) => rows.slice(0, n);
    } else {
      stage = `the simulator does not support '${op.map((t) => t.text).join(' ')}'`;
    }
    if (typeof stage === 'string') {
      return stage.startsWith('semantic:') ? semanticError(stage.slice('semantic:'.length)) : syntaxError(`Query could not be parsed: ${stage}`);
    }
    stages.push(stage);
  }
  return { stages, byFirst };
}

/** Rows generated within an ISO 8601 duration (`PT1H`, `P7D`) before now; undefined when it is not one. */
function withinTimespan(timespan: string, now: number): ((r: Row) => boolean) | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(timespan);
  if (!m || timespan === 'P' || timespan.endsWith('T')) {
    return undefined;
  }
  const ms = ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60_000 + Number(m[4] ?? 0) * 1000;
  return (r) => Date.parse(textOf(r.TimeGenerated)) >= now - ms;
}

function cell(value: unknown, type: string): unknown {
  if (value === undefined || value === null) {
    return type === 'string' ? '' : null;
  }
  return value;
}

/**
 * The Log Analytics query API over the seeded `SecurityAlert` rows: a bearer token for `https://api.loganalytics.io`,
 * the Log Analytics Reader role on the workspace (`knobs.logAnalyticsReader`), the workspace's customer id in the
 * path, `{ query, timespan? }` in a POST body (or `?query=` on GET); answers `{ tables: [{ name, columns, rows }] }`.
 */
export function handleLogAnalytics(state: TenantState, knobs: Knobs, req: SimRequest): SimResponse {
  const auth = verifyBearer(req.headers.authorization, LOG_ANALYTICS_AUDIENCE);
  if (!auth.ok) {
    return laError(401, 'AuthorizationRequiredError', `Valid authentication was not provided: ${auth.message}`);
  }
  const m = QUERY_PATH.exec(req.path);
  if (!m) {
    return laError(404, 'PathNotFoundError', `The requested path does not exist: ${req.path}`);
  }
  const method = req.method.toUpperCase();
  if (method !== 'GET' && method !== 'POST') {
    return laError(405, 'MethodNotAllowed', `The method '${method}' is not allowed.`);
  }
  const workspace = state.workspaces.get(decodeURIComponent(m[1] as string).toLowerCase());
  if (!workspace) {
    return laError(404, 'WorkspaceNotFoundError', `The workspace ${m[1] as string} could not be found.`);
  }
  if (!knobs.logAnalyticsReader) {
    return laError(403, 'InsufficientAccessError', 'The provided credentials have insufficient access to perform the requested operation');
  }
  const params = method === 'POST' ? req.body : { query: req.query.get('query') ?? undefined, timespan: req.query.get('timespan') ?? undefined };
  if (!isRecord(params) || typeof params.query !== 'string' || params.query.trim() === '') {
    return laError(400, 'BadArgumentError', 'The request had some invalid properties', { code: 'QueryValidationError', message: "'query' is required and must be a string" });
  }
  let rows: Row[] = state.securityAlerts.filter((r: SecurityAlertRow) => r.TenantId.toLowerCase() === workspace.customerId.toLowerCase());
  if (params.timespan !== undefined) {
    const within = typeof params.timespan === 'string' ? withinTimespan(params.timespan, Date.now()) : undefined;
    if (!within) {
      return laError(400, 'BadArgumentError', 'The request had some invalid properties', { code: 'InvalidTimespan', message: `'${textOf(params.timespan)}' is not a duration the simulator reads` });
    }
    rows = rows.filter(within);
  }
  const compiled = compileQuery(params.query);
  if (!('stages' in compiled)) {
    return compiled;
  }
  for (const stage of compiled.stages) {
    rows = stage(rows);
  }
  const columns = compiled.byFirst
    ? [...SECURITY_ALERT_COLUMNS.filter((c) => c.name === compiled.byFirst), ...SECURITY_ALERT_COLUMNS.filter((c) => c.name === 'TimeGenerated' && compiled.byFirst !== 'TimeGenerated'), ...SECURITY_ALERT_COLUMNS.filter((c) => c.name !== compiled.byFirst && c.name !== 'TimeGenerated')]
    : [...SECURITY_ALERT_COLUMNS];
  return json(200, { tables: [{ name: 'PrimaryResult', columns, rows: rows.map((r) => columns.map((c) => cell(r[c.name], c.type))) }] });
}
