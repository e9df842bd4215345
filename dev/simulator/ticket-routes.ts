import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SimRequest, SimResponse } from './sim-http';
import { isRecord, json, newGuid } from './sim-http';
import type { Knobs } from './sim-types';
import type { JiraIssue, ServiceNowRecord, TenantState } from './tenant-state';

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function basicAuth(header: string | undefined): { user: string; secret: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m?.[1]) {
    return undefined;
  }
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), secret: decoded.slice(i + 1) };
}

// ---------------------------------------------------------------------------------------------- ServiceNow

const SN_TABLE = /^\/api\/now\/(?:v\d+\/)?table\/([A-Za-z0-9_]+)(?:\/([0-9a-f]{32}))?$/;

function snError(status: number, message: string, detail: string): SimResponse {
  return json(status, { error: { message, detail }, status: 'failure' });
}

const JOURNAL_FIELDS = new Set(['work_notes', 'comments']);

function snView(rec: ServiceNowRecord, fields: string | null): Record<string, unknown> {
  const out: Record<string, unknown> = { ...rec.fields };
  // Journal fields read back as the latest entries, newest first, like the Table API's display value.
  for (const f of JOURNAL_FIELDS) {
    const entries = rec.journal.filter((j) => j.field === f);
    out[f] = entries
      .reverse()
      .map((j) => `${j.at} - ${j.value}`)
      .join('\n\n');
  }
  if (fields) {
    const keep = new Set(fields.split(',').map((s) => s.trim()));
    for (const k of Object.keys(out)) {
      if (!keep.has(k)) {
        delete out[k];
      }
    }
  }
  return out;
}

function snQuery(query: string): ((r: ServiceNowRecord) => boolean) | undefined {
  const clauses = query.split('^').filter((c) => c && !c.startsWith('ORDERBY'));
  const tests: ((r: ServiceNowRecord) => boolean)[] = [];
  for (const c of clauses) {
    const m = /^([A-Za-z0-9_.]+)(!=|=|LIKE|STARTSWITH)(.*)$/.exec(c);
    if (!m) {
      return undefined;
    }
    const [, field, op, value] = m as unknown as [string, string, string, string];
    tests.push((r) => {
      const v = r.fields[field];
      const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
      if (op === '=') {
        return s === value;
      }
      if (op === '!=') {
        return s !== value;
      }
      if (op === 'LIKE') {
        return s.toLowerCase().includes(value.toLowerCase());
      }
      return s.toLowerCase().startsWith(value.toLowerCase());
    });
  }
  return (r) => tests.every((t) => t(r));
}

/**
 * The Journal Entries table as the Table API shows it: one `sys_journal_field` record per work note or comment,
 * `element_id` = the sys_id of the record it belongs to, `element` = the journal field, `name` = its table.
 */
function journalRecords(state: TenantState): ServiceNowRecord[] {
  return state.tickets.servicenow.flatMap((rec) =>
    rec.journal.map((entry, i) => ({
      table: 'sys_journal_field',
      fields: {
        sys_id: createHash('sha256').update(`${rec.fields.sys_id}|${i}`).digest('hex').slice(0, 32),
        number: '',
        element: entry.field,
        element_id: rec.fields.sys_id,
        name: rec.table,
        value: entry.value,
        sys_created_on: entry.at,
        sys_created_by: typeof rec.fields.sys_created_by === 'string' ? rec.fields.sys_created_by : '',
      },
      journal: [],
    })),
  );
}

/**
 * ServiceNow Table API: basic auth, create, query by `sysparm_query`, get and patch by sys_id; the Journal
 * Entries table (`sys_journal_field`) is read-only, as its ACLs make it for an integration user.
 */
export function handleServiceNow(state: TenantState, knobs: Knobs, req: SimRequest): SimResponse {
  const cred = basicAuth(req.headers.authorization);
  if (!cred || !safeEqual(cred.user, knobs.servicenow.username) || !safeEqual(cred.secret, knobs.servicenow.password)) {
    return snError(401, 'User Not Authenticated', 'Required to provide Auth information');
  }
  const m = SN_TABLE.exec(req.path);
  if (!m) {
    return snError(400, 'Invalid table', `No table API at ${req.path}`);
  }
  const table = m[1] as string;
  const sysId = m[2];
  const method = req.method.toUpperCase();
  const journal = table === 'sys_journal_field';
  if (journal && method !== 'GET') {
    return snError(403, 'Operation Failed', 'ACL restricts the record operation');
  }
  const records = journal ? journalRecords(state) : state.tickets.servicenow;
  const fields = req.query.get('sysparm_fields');
  if (!sysId && method === 'POST') {
    if (!isRecord(req.body)) {
      return snError(400, 'Exception while reading request', 'The payload is not valid JSON.');
    }
    const now = new Date().toISOString().replace('T', ' ').slice(0, 19);
    const n = records.filter((r) => r.table === table).length + 10001;
    const prefix = table === 'incident' ? 'INC' : table === 'sn_si_incident' ? 'SIR' : 'TKT';
    const rec: ServiceNowRecord = {
      table,
      fields: {
        state: '1',
        urgency: '3',
        impact: '3',
        priority: '5',
        active: 'true',
        ...stringifyFields(req.body),
        sys_id: randomBytes(16).toString('hex'),
        number: `${prefix}${String(n).padStart(7, '0')}`,
        sys_created_on: now,
        sys_updated_on: now,
        sys_created_by: knobs.servicenow.username,
      },
      journal: [],
    };
    moveJournal(rec, req.body, now);
    records.push(rec);
    return json(201, { result: snView(rec, fields) });
  }
  if (!sysId && method === 'GET') {
    const predicate = snQuery(req.query.get('sysparm_query') ?? '');
    if (!predicate) {
      return snError(400, 'Invalid query', `Unsupported sysparm_query '${req.query.get('sysparm_query') ?? ''}'.`);
    }
    const limit = Number(req.query.get('sysparm_limit') ?? '10000');
    const offset = Number(req.query.get('sysparm_offset') ?? '0');
    const matches = records.filter((r) => r.table === table && predicate(r));
    return json(200, { result: matches.slice(offset, offset + limit).map((r) => snView(r, fields)) }, {
      'X-Total-Count': String(matches.length),
    });
  }
  const rec = records.find((r) => r.table === table && r.fields.sys_id === sysId);
  if (!rec) {
    return snError(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
  }
  if (method === 'GET') {
    return json(200, { result: snView(rec, fields) });
  }
  if (method === 'PATCH' || method === 'PUT') {
    if (!isRecord(req.body)) {
      return snError(400, 'Exception while reading request', 'The payload is not valid JSON.');
    }
    const now = new Date().toISOString().replace('T', ' ').slice(0, 19);
    const rest = stringifyFields(req.body);
    delete rest.sys_id;
    delete rest.number;
    Object.assign(rec.fields, rest, { sys_updated_on: now });
    moveJournal(rec, req.body, now);
    return json(200, { result: snView(rec, fields) });
  }
  if (method === 'DELETE') {
    records.splice(records.indexOf(rec), 1);
    return { status: 204 };
  }
  return snError(405, 'Method not allowed', `${method} is not supported on this resource.`);
}

/** The Table API stores every value as a string. */
function stringifyFields(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (JOURNAL_FIELDS.has(k)) {
      continue;
    }
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

function moveJournal(rec: ServiceNowRecord, body: Record<string, unknown>, at: string): void {
  for (const f of JOURNAL_FIELDS) {
    const v = body[f];
    if (typeof v === 'string' && v.length > 0) {
      rec.journal.push({ field: f, value: v, at });
    }
  }
}

// ---------------------------------------------------------------------------------------------- Jira

function jiraError(status: number, errorMessages: string[], errors: Record<string, string> = {}): SimResponse {
  return json(status, { errorMessages, errors });
}

/** An Atlassian Document Format document: `{ type: 'doc', version: 1, content: [...] }`. */
export function isAdf(value: unknown): boolean {
  return isRecord(value) && value.type === 'doc' && value.version === 1 && Array.isArray(value.content);
}

function issueView(baseUrl: string, issue: JiraIssue): Record<string, unknown> {
  return {
    id: issue.id,
    key: issue.key,
    self: `${baseUrl}/rest/api/3/issue/${issue.id}`,
    fields: {
      ...issue.fields,
      comment: {
        comments: issue.comments.map((c) => commentView(baseUrl, issue, c, false)),
        total: issue.comments.length,
      },
    },
  };
}

/** A comment as Jira answers it; `properties` only when asked for (`expand=properties`). */
function commentView(baseUrl: string, issue: JiraIssue, c: JiraIssue['comments'][number], withProperties: boolean): Record<string, unknown> {
  const { properties, ...rest } = c;
  return {
    ...rest,
    self: `${baseUrl}/rest/api/3/issue/${issue.id}/comment/${c.id}`,
    ...(withProperties ? { properties: properties ?? [] } : {}),
  };
}

function findIssue(state: TenantState, idOrKey: string): JiraIssue | undefined {
  const k = idOrKey.toUpperCase();
  return state.tickets.jira.find((i) => i.key === k || i.id === idOrKey);
}

/** The JQL the responder uses: `labels = "x"`, `labels = x`, `project = X`, `key = X-1`, joined by AND. */
function compileJql(jql: string): ((i: JiraIssue) => boolean) | undefined {
  const text = jql.replace(/\s+ORDER\s+BY\s+.*$/i, '').trim();
  if (!text) {
    return () => true;
  }
  const tests: ((i: JiraIssue) => boolean)[] = [];
  for (const clause of text.split(/\s+AND\s+/i)) {
    const m = /^\s*(labels|project|key|status|summary)\s*(=|~|in)\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|\(([^)]*)\)|([^\s"]+))\s*$/i.exec(clause);
    if (!m) {
      return undefined;
    }
    const field = (m[1] as string).toLowerCase();
    const op = (m[2] as string).toLowerCase();
    const values =
      m[5] !== undefined
        ? m[5].split(',').map((v) => v.trim().replace(/^["']|["']$/g, ''))
        : [(m[3] ?? m[4] ?? m[6] ?? '').replace(/\\"/g, '"')];
    tests.push((i) => {
      const f = i.fields;
      switch (field) {
        case 'labels':
          return Array.isArray(f.labels) && values.some((v) => (f.labels as unknown[]).includes(v));
        case 'project':
          return isRecord(f.project) && values.some((v) => String(f.project && (f.project as Record<string, unknown>).key).toUpperCase() === v.toUpperCase());
        case 'key':
          return values.some((v) => i.key === v.toUpperCase());
        case 'status':
          return isRecord(f.status) && values.some((v) => String((f.status as Record<string, unknown>).name).toLowerCase() === v.toLowerCase());
        default:
          return op === '~'
            ? (typeof f.summary === 'string' ? f.summary : '').toLowerCase().includes((values[0] ?? '').toLowerCase())
            : values.some((v) => f.summary === v);
      }
    });
  }
  return (i) => tests.every((t) => t(i));
}

/** Jira Cloud REST v3: basic auth with email + API token; issues with ADF descriptions; JQL search; comments. */
export function handleJira(state: TenantState, knobs: Knobs, req: SimRequest): SimResponse {
  const cred = basicAuth(req.headers.authorization);
  if (!cred || !safeEqual(cred.user, knobs.jira.email) || !safeEqual(cred.secret, knobs.jira.apiToken)) {
    return jiraError(401, ['Client must be authenticated to access this resource.']);
  }
  const method = req.method.toUpperCase();
  const path = req.path.replace(/\/+$/, '');
  if (path === '/rest/api/3/issue' && method === 'POST') {
    return createIssue(state, req);
  }
  if (path === '/rest/api/3/search/jql' || path === '/rest/api/3/search') {
    const jql = method === 'POST' && isRecord(req.body) ? (typeof req.body.jql === 'string' ? req.body.jql : '') : (req.query.get('jql') ?? '');
    const test = compileJql(jql);
    if (!test) {
      return jiraError(400, [`Error in the JQL Query: the simulator cannot parse '${jql}'.`]);
    }
    const max = Number((isRecord(req.body) ? req.body.maxResults : undefined) ?? req.query.get('maxResults') ?? 50);
    // Jira Cloud's search index is eventually consistent: a new issue shows up only after the lag.
    const indexedBefore = Date.now() - knobs.jiraSearchLagMs;
    const issues = state.tickets.jira.filter((i) => Date.parse(String(i.fields.created)) <= indexedBefore && test(i)).slice(0, max);
    return json(200, { issues: issues.map((i) => issueView(req.baseUrl, i)), isLast: true });
  }
  const commentPath = /^\/rest\/api\/3\/issue\/([^/]+)\/comment$/.exec(path);
  if (commentPath) {
    const issue = findIssue(state, decodeURIComponent(commentPath[1] as string));
    if (!issue) {
      return jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
    }
    if (method === 'GET') {
      const startAt = Number(req.query.get('startAt') ?? 0);
      const maxResults = Math.min(Number(req.query.get('maxResults') ?? 5000), 5000);
      const page = issue.comments.slice(startAt, startAt + maxResults).map((c) => commentView(req.baseUrl, issue, c, false));
      return json(200, { startAt, maxResults, total: issue.comments.length, comments: page });
    }
    if (method === 'POST') {
      const body = isRecord(req.body) ? req.body.body : undefined;
      if (!isAdf(body)) {
        return jiraError(400, [], { comment: 'Comment body must be an Atlassian Document.' });
      }
      const properties = isRecord(req.body) ? req.body.properties : undefined;
      if (properties !== undefined && (!Array.isArray(properties) || !properties.every((p) => isRecord(p) && typeof p.key === 'string' && p.key.length > 0 && p.key.length <= 255 && 'value' in p))) {
        return jiraError(400, [], { properties: 'Properties must be a list of { key, value } with keys of 1 to 255 characters.' });
      }
      const comment = {
        id: String(20000 + state.tickets.jira.reduce((n, i) => n + i.comments.length, 0) + 1),
        body,
        created: new Date().toISOString(),
        ...(properties ? { properties: (properties as { key: string; value: unknown }[]).map((p) => ({ key: p.key, value: p.value })) } : {}),
      };
      issue.comments.push(comment);
      return json(201, commentView(req.baseUrl, issue, comment, false));
    }
  }
  if (path === '/rest/api/3/comment/list' && method === 'POST') {
    const ids = isRecord(req.body) && Array.isArray(req.body.ids) ? req.body.ids : undefined;
    if (!ids || ids.length === 0 || ids.length > 1000) {
      return jiraError(400, ['The request must name between 1 and 1000 comment ids.']);
    }
    const expand = (req.query.get('expand') ?? '').split(',').includes('properties');
    const wanted = new Set(ids.map(String));
    const values = state.tickets.jira.flatMap((i) => i.comments.filter((c) => wanted.has(c.id)).map((c) => commentView(req.baseUrl, i, c, expand)));
    return json(200, { startAt: 0, maxResults: 1000, total: values.length, isLast: true, values });
  }
  const propertyPath = /^\/rest\/api\/3\/comment\/([^/]+)\/properties\/([^/]+)$/.exec(path);
  if (propertyPath) {
    const id = decodeURIComponent(propertyPath[1] as string);
    const key = decodeURIComponent(propertyPath[2] as string);
    const comment = state.tickets.jira.flatMap((i) => i.comments).find((c) => c.id === id);
    if (!comment) {
      return jiraError(404, ['The comment does not exist or you do not have permission to see it.']);
    }
    const existing = comment.properties?.find((p) => p.key === key);
    if (method === 'GET') {
      return existing ? json(200, { key, value: existing.value }) : jiraError(404, [`The property '${key}' does not exist.`]);
    }
    if (method === 'PUT') {
      if (existing) {
        existing.value = req.body;
        return json(200, {});
      }
      comment.properties = [...(comment.properties ?? []), { key, value: req.body }];
      return json(201, {});
    }
  }
  const issuePath = /^\/rest\/api\/3\/issue\/([^/]+)$/.exec(path);
  if (issuePath) {
    const issue = findIssue(state, decodeURIComponent(issuePath[1] as string));
    if (!issue) {
      return jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
    }
    if (method === 'GET') {
      return json(200, issueView(req.baseUrl, issue));
    }
    if (method === 'PUT') {
      const fields = isRecord(req.body) && isRecord(req.body.fields) ? req.body.fields : {};
      if ('description' in fields && !isAdf(fields.description)) {
        return jiraError(400, [], { description: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)' });
      }
      Object.assign(issue.fields, fields, { updated: new Date().toISOString() });
      return { status: 204 };
    }
  }
  return jiraError(404, [`No resource at ${method} ${path}.`]);
}

function createIssue(state: TenantState, req: SimRequest): SimResponse {
  const fields = isRecord(req.body) && isRecord(req.body.fields) ? req.body.fields : undefined;
  if (!fields) {
    return jiraError(400, ['The request body must have fields.']);
  }
  const errors: Record<string, string> = {};
  const projectKey = isRecord(fields.project) && typeof fields.project.key === 'string' ? fields.project.key : undefined;
  if (!projectKey) {
    errors.project = 'Specify a valid project ID or key';
  }
  if (typeof fields.summary !== 'string' || !fields.summary) {
    errors.summary = 'You must specify a summary of the issue.';
  } else if (fields.summary.length > 255) {
    errors.summary = 'Summary must be less than 255 characters.';
  }
  if (!isRecord(fields.issuetype) || (typeof fields.issuetype.name !== 'string' && typeof fields.issuetype.id !== 'string')) {
    errors.issuetype = 'Specify an issue type';
  }
  if (fields.description !== undefined && !isAdf(fields.description)) {
    errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
  }
  if (fields.labels !== undefined && (!Array.isArray(fields.labels) || fields.labels.some((l) => typeof l !== 'string' || /\s/.test(l)))) {
    errors.labels = 'Labels must be strings without spaces.';
  }
  if (Object.keys(errors).length > 0) {
    return jiraError(400, [], errors);
  }
  const key = (projectKey as string).toUpperCase();
  const n = state.tickets.jira.filter((i) => i.key.startsWith(`${key}-`)).length + 1;
  const now = new Date().toISOString();
  const issue: JiraIssue = {
    id: String(10000 + state.tickets.jira.length + 1),
    key: `${key}-${n}`,
    fields: { ...fields, status: { name: 'To Do' }, created: now, updated: now },
    comments: [],
  };
  state.tickets.jira.push(issue);
  return json(201, { id: issue.id, key: issue.key, self: `${req.baseUrl}/rest/api/3/issue/${issue.id}` });
}

// ---------------------------------------------------------------------------------------------- Webhook

/** `sha256=<hex HMAC-SHA256(secret, body)>`, the header value a sender must put in `X-Signature-256`. */
export function signWebhook(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Generic ticket webhook receiver: verifies `X-Signature-256` over the raw body in constant time and
 * deduplicates on `Idempotency-Key` (a repeat answers 200 with the first delivery's id).
 */
export function handleWebhook(state: TenantState, knobs: Knobs, req: SimRequest): SimResponse {
  if (req.method.toUpperCase() !== 'POST' || req.path.replace(/\/+$/, '') !== '/webhook/tickets') {
    return json(404, { error: 'not found' });
  }
  const given = req.headers['x-signature-256'] ?? '';
  if (!safeEqual(given, signWebhook(knobs.webhookSecret, req.rawBody))) {
    return json(401, { error: 'invalid signature' });
  }
  const key = req.headers['idempotency-key'];
  if (key) {
    const first = state.tickets.webhook.find((d) => d.idempotencyKey === key);
    if (first) {
      return json(200, { id: first.id, duplicate: true });
    }
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined && k !== 'authorization') {
      headers[k] = v;
    }
  }
  const delivery = { id: newGuid(), idempotencyKey: key, at: Date.now(), body: req.body, headers };
  state.tickets.webhook.push(delivery);
  return json(201, { id: delivery.id });
}
