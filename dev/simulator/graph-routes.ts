import { CSA_READ_PERMISSION, OWNED_BY_ROUTES, ROUTE_PERMISSIONS, allowsRoute, hasPermission, missingForRoute } from './graph-permissions';
import { ODataError, compileFilter, decodeSkipToken, encodeSkipToken, pageOf, parseSelect, parseTop } from './odata';
import type { Predicate } from './odata';
import { entityProperties, matchGraphPath, normaliseSegments, validateBody } from './openapi-validator';
import type { GraphVersion, RouteMatch } from './openapi-validator';
import type { SimResponse } from './sim-http';
import { isRecord, json, newGuid } from './sim-http';
import type { DirObject, Knobs } from './sim-types';
import type { DirectoryWriteWindow, IdentityProtectionBucket } from './throttle';
import type { TenantState } from './tenant-state';
import { isOfType, typeNameOf } from './tenant-state';

/** Everything a Graph handler may touch. */
export interface GraphEnv {
  state: TenantState;
  knobs: () => Knobs;
  ipBucket: IdentityProtectionBucket;
  writeWindow: DirectoryWriteWindow;
  baseUrl: string;
}

/** One Graph call (a top-level request or one `$batch` item), already authenticated. */
export interface GraphCall {
  version: GraphVersion;
  method: string;
  /** Path after the version, e.g. `/servicePrincipals/{id}`. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: unknown;
  bodyInvalid?: boolean;
}

type Handler = (env: GraphEnv, call: GraphCall, route: RouteMatch) => SimResponse;

export function graphError(status: number, code: string, message: string, headers?: Record<string, string>): SimResponse {
  return json(status, { error: { code, message } }, headers);
}

const notFound = (id: string): SimResponse =>
  graphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

/** Bookkeeping fields that are not Graph properties. */
const INTERNAL = new Set([
  'owners',
  'sponsors',
  'memberOf',
  'deleted',
  'riskState',
  'riskLevel',
  'riskDetail',
  'riskLastUpdatedDateTime',
  'appRoleAssignments',
  'oauth2PermissionGrants',
]);

interface ShapeOptions {
  select?: Set<string>;
  expand?: Set<string>;
  /** The caller may read custom security attributes. */
  csa: boolean;
}

/** Graph representation: `@odata.type` and `id` always; custom security attributes only when selected. */
function shape(env: GraphEnv, obj: DirObject, opts: ShapeOptions): Record<string, unknown> {
  const out: Record<string, unknown> = { '@odata.type': obj['@odata.type'], id: obj.id };
  if (opts.select) {
    for (const p of opts.select) {
      if (p === 'customSecurityAttributes' && !opts.csa) {
        continue;
      }
      out[p] = p in obj ? obj[p] : null;
    }
  } else {
    for (const [k, v] of Object.entries(obj)) {
      if (!INTERNAL.has(k) && k !== 'customSecurityAttributes' && !(k in out)) {
        out[k] = v;
      }
    }
  }
  for (const nav of opts.expand ?? []) {
    const ids = (obj[nav] as string[] | undefined) ?? [];
    out[nav] = refs(env, ids);
  }
  return out;
}

function refs(env: GraphEnv, ids: readonly string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const id of ids) {
    const o = env.state.live(id);
    if (o) {
      out.push(shape(env, o, { csa: false }));
    }
  }
  return out;
}

function granted(env: GraphEnv): string[] | 'all' {
  return env.knobs().grantedPermissions;
}

function propsOf(version: GraphVersion, typeName: string): Map<string, string> {
  return entityProperties(version, typeName) ?? entityProperties(version, 'microsoft.graph.directoryObject') ?? new Map<string, string>();
}

const EXPANDABLE = new Set(['owners', 'sponsors', 'memberOf']);

function shapeOptions(env: GraphEnv, call: GraphCall, typeName: string): ShapeOptions {
  const sel = call.query.get('$select');
  const exp = call.query.get('$expand');
  const opts: ShapeOptions = { csa: hasPermission(granted(env), CSA_READ_PERMISSION) };
  if (sel) {
    opts.select = parseSelect(sel, propsOf(call.version, typeName), typeName);
  }
  if (exp) {
    opts.expand = new Set();
    for (const raw of exp.split(',')) {
      const name = raw.trim().replace(/\(.*\)$/, '');
      const canonical = [...EXPANDABLE].find((e) => e.toLowerCase() === name.toLowerCase());
      if (!canonical) {
        throw new ODataError('BadRequest', `Could not find a property named '${name}' on type '${typeName}'.`);
      }
      opts.expand.add(canonical);
    }
  }
  return opts;
}

function contextUrl(env: GraphEnv, call: GraphCall, fragment: string): string {
  return `${env.baseUrl}/${call.version}/$metadata#${fragment}`;
}

interface ListSpec<T> {
  items: readonly T[];
  /** Type for $select/$filter checks, e.g. `microsoft.graph.agentIdentity`. */
  typeName: string;
  keep: (item: T) => boolean;
  toRecord: (item: T) => Record<string, unknown>;
  /** Project the item for the response. */
  render: (item: T, opts: ShapeOptions) => Record<string, unknown>;
  maxTop: number;
  defaultTop: number;
  context: string;
}

/** A collection GET with `$filter`, `$select`, `$top`, `$count` and `$skiptoken` paging. */
function list<T>(env: GraphEnv, call: GraphCall, spec: ListSpec<T>): SimResponse {
  const q = call.query;
  const props = propsOf(call.version, spec.typeName);
  const filterText = q.get('$filter');
  const filter: Predicate | undefined = filterText ? compileFilter(filterText, props, spec.typeName) : undefined;
  const opts = shapeOptions(env, call, spec.typeName);
  const top = parseTop(q.get('$top'), spec.maxTop) ?? spec.defaultTop;
  const skip = q.get('$skiptoken');
  const start = skip ? decodeSkipToken(skip) : 0;
  const keep = filter ? (item: T) => spec.keep(item) && filter(spec.toRecord(item)) : spec.keep;
  const wantCount = (q.get('$count') ?? '').toLowerCase() === 'true';
  if (wantCount && (call.headers.consistencylevel ?? '').toLowerCase() !== 'eventual') {
    return graphError(
      400,
      'Request_UnsupportedQuery',
      "Unsupported query: $count requires the request header 'ConsistencyLevel: eventual'.",
    );
  }
  const { page, next } = pageOf(spec.items, keep, start, top);
  const body: Record<string, unknown> = { '@odata.context': contextUrl(env, call, spec.context) };
  if (wantCount) {
    let n = 0;
    for (const item of spec.items) {
      if (keep(item)) {
        n++;
      }
    }
    body['@odata.count'] = n;
  }
  if (next !== undefined) {
    const params = new URLSearchParams(call.query);
    params.delete('$skiptoken');
    params.set('$skiptoken', encodeSkipToken(next));
    // Graph writes the query options' `$` unescaped in its links.
    body['@odata.nextLink'] = `${env.baseUrl}/${call.version}${call.path}?${params.toString().replace(/%24/g, '$')}`;
  }
  body.value = page.map((item) => spec.render(item, opts));
  return json(200, body);
}

function listDirectory(
  env: GraphEnv,
  call: GraphCall,
  collection: DirObject[],
  typeName: string,
  context: string,
  maxTop: number,
  defaultTop = 100,
): SimResponse {
  const short = typeName.replace('microsoft.graph.', '');
  const isBase = short === 'servicePrincipal' || short === 'user';
  return list<DirObject>(env, call, {
    items: collection,
    typeName,
    keep: isBase ? (o) => !o.deleted : (o) => !o.deleted && isOfType(o, typeName),
    toRecord: (o) => o,
    render: (o, opts) => shape(env, o, opts),
    maxTop,
    defaultTop,
    context,
  });
}

/** A live object of (or derived from) `typeName`, or a 404 response. */
function find(env: GraphEnv, id: string, typeName: string): DirObject | SimResponse {
  const o = env.state.live(id);
  return o && isOfType(o, typeName) ? o : notFound(id);
}

const isResponse = (v: DirObject | SimResponse): v is SimResponse => 'status' in v && !('@odata.type' in v);

function getOne(env: GraphEnv, call: GraphCall, obj: DirObject, typeName: string, context: string): SimResponse {
  const opts = shapeOptions(env, call, typeName);
  return json(200, { '@odata.context': contextUrl(env, call, context), ...shape(env, obj, opts) });
}

function applyPatch(env: GraphEnv, obj: DirObject, body: Record<string, unknown>): void {
  const before = { appId: obj.appId, userPrincipalName: obj.userPrincipalName };
  for (const [k, v] of Object.entries(body)) {
    if (k.startsWith('@odata.')) {
      continue;
    }
    if (k === 'customSecurityAttributes' && isRecord(v)) {
      // PATCH merges per attribute set; a null attribute value removes it.
      const current = isRecord(obj.customSecurityAttributes) ? { ...obj.customSecurityAttributes } : {};
      for (const [set, attrs] of Object.entries(v)) {
        const merged: Record<string, unknown> = isRecord(current[set]) ? { ...current[set] } : {};
        if (isRecord(attrs)) {
          for (const [name, value] of Object.entries(attrs)) {
            if (value === null) {
              delete merged[name];
            } else {
              merged[name] = value;
            }
          }
        }
        current[set] = merged;
      }
      obj.customSecurityAttributes = current;
      continue;
    }
    obj[k] = v;
  }
  env.state.reindex(obj, before);
}

function softDelete(obj: DirObject): void {
  obj.deleted = true;
  obj.deletedDateTime = new Date().toISOString();
}

function patchOf(typeName: string): Handler {
  return (env, call, route) => {
    const id = firstParam(route);
    const o = find(env, id, typeName);
    if (isResponse(o)) {
      return o;
    }
    applyPatch(env, o, call.body as Record<string, unknown>);
    return { status: 204 };
  };
}

function deleteOf(typeName: string): Handler {
  return (env, _call, route) => {
    const id = firstParam(route);
    const o = find(env, id, typeName);
    if (isResponse(o)) {
      return o;
    }
    softDelete(o);
    return { status: 204 };
  };
}

function getOf(typeName: string, context: string): Handler {
  return (env, call, route) => {
    const id = firstParam(route);
    const o = find(env, id, typeName);
    return isResponse(o) ? o : getOne(env, call, o, typeName, context);
  };
}

function navOf(typeName: string, nav: 'owners' | 'sponsors' | 'memberOf'): Handler {
  return (env, call, route) => {
    const id = firstParam(route);
    const o = find(env, id, typeName);
    if (isResponse(o)) {
      return o;
    }
    return refList(env, call, o[nav] ?? []);
  };
}

/** A navigation collection of directory objects, paged as Graph pages it (100 a page by default). */
function refList(env: GraphEnv, call: GraphCall, ids: readonly string[]): SimResponse {
  const items = ids.map((x) => env.state.live(x)).filter((x): x is DirObject => x !== undefined);
  return list<DirObject>(env, call, {
    items,
    typeName: 'microsoft.graph.directoryObject',
    keep: () => true,
    toRecord: (x) => x,
    render: (x, opts) => shape(env, x, opts),
    maxTop: 999,
    defaultTop: 100,
    context: 'directoryObjects',
  });
}

/** Members of a group, nested groups flattened (users, groups and service principals whose memberOf leads to it). */
function transitiveMembers(env: GraphEnv, groupId: string): string[] {
  const all = [...env.state.collections.users, ...env.state.collections.groups, ...env.state.collections.servicePrincipals].filter((x) => !x.deleted);
  const found = new Set<string>();
  const queue = [groupId.toLowerCase()];
  while (queue.length > 0) {
    const g = queue.shift() ?? '';
    for (const x of all) {
      if ((x.memberOf ?? []).some((m) => m.toLowerCase() === g) && !found.has(x.id)) {
        found.add(x.id);
        if (x['@odata.type'] === '#microsoft.graph.group') {
          queue.push(x.id.toLowerCase());
        }
      }
    }
  }
  return [...found];
}

function firstParam(route: RouteMatch): string {
  return Object.values(route.params)[0] ?? '';
}

/** Case-insensitive property read, for action parameters (`Message` / `message`). */
function param(body: unknown, name: string): unknown {
  if (!isRecord(body)) {
    return undefined;
  }
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : body[key];
}

function idList(body: unknown, name: string, max?: number): string[] | SimResponse {
  const ids = param(body, name);
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string')) {
    return graphError(400, 'BadRequest', `The request body must contain a non-empty '${name}' array of strings.`);
  }
  if (max !== undefined && ids.length > max) {
    return graphError(400, 'BadRequest', `The '${name}' array may hold at most ${max} ids; ${ids.length} were sent.`);
  }
  return ids;
}

type RiskKind = 'servicePrincipal' | 'user' | 'agent';

const AGENT_TYPES = [
  '#microsoft.graph.agentIdentity',
  '#microsoft.graph.agentIdentityBlueprintPrincipal',
  '#microsoft.graph.agentUser',
];

function riskKindOk(obj: DirObject, kind: RiskKind): boolean {
  const t = obj['@odata.type'];
  if (kind === 'agent') {
    return AGENT_TYPES.includes(t);
  }
  if (kind === 'servicePrincipal') {
    return t === '#microsoft.graph.servicePrincipal';
  }
  return t === '#microsoft.graph.user';
}

const RISK_DETAIL: Record<RiskKind, { compromised: string; dismissed: string; safe: string }> = {
  servicePrincipal: {
    compromised: 'adminConfirmedServicePrincipalCompromised',
    dismissed: 'adminDismissedAllRiskForServicePrincipal',
    safe: 'adminDismissedAllRiskForServicePrincipal',
  },
  user: {
    compromised: 'adminConfirmedUserCompromised',
    dismissed: 'adminDismissedAllRiskForUser',
    safe: 'adminConfirmedSigninSafe',
  },
  agent: {
    compromised: 'adminConfirmedAgentCompromised',
    dismissed: 'adminDismissedRiskForAgent',
    safe: 'adminConfirmedAgentSafe',
  },
};

/**
 * confirmCompromised / dismiss / confirmSafe. All ids are checked before any is changed: an unknown id is
 * 404, an object of the wrong kind (an agent sent to riskyServicePrincipals, a service principal sent to
 * riskyAgents) is 400, so the responder's choice of API per identity kind is tested.
 */
function riskAction(kind: RiskKind, field: string, action: 'compromised' | 'dismissed' | 'safe', max?: number): Handler {
  return (env, call) => {
    const ids = idList(call.body, field, max);
    if (!Array.isArray(ids)) {
      return ids;
    }
    const targets: DirObject[] = [];
    for (const id of ids) {
      const o = env.state.live(id);
      if (!o) {
        return notFound(id);
      }
      if (!riskKindOk(o, kind)) {
        const where =
          kind === 'agent'
            ? 'an agent identity, agent identity blueprint principal or agent user'
            : kind === 'servicePrincipal'
              ? 'a service principal that is not an agent (agents use /identityProtection/riskyAgents)'
              : 'a user that is not an agent user (agent users use /identityProtection/riskyAgents)';
        return graphError(400, 'BadRequest', `Object '${id}' (${o['@odata.type']}) is not ${where}.`);
      }
      targets.push(o);
    }
    const now = new Date().toISOString();
    for (const o of targets) {
      o.riskState = action === 'compromised' ? 'confirmedCompromised' : action === 'dismissed' ? 'dismissed' : 'confirmedSafe';
      o.riskLevel = action === 'compromised' ? 'high' : 'none';
      o.riskDetail = RISK_DETAIL[kind][action];
      o.riskLastUpdatedDateTime = now;
    }
    return { status: 204 };
  };
}

function riskyServicePrincipal(o: DirObject): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.riskyServicePrincipal',
    id: o.id,
    appId: o.appId ?? null,
    displayName: o.displayName ?? null,
    servicePrincipalType: o.servicePrincipalType ?? null,
    accountEnabled: o.accountEnabled ?? null,
    isEnabled: o.accountEnabled !== false,
    isProcessing: false,
    riskLevel: o.riskLevel ?? 'none',
    riskState: o.riskState ?? 'none',
    riskDetail: o.riskDetail ?? 'none',
    riskLastUpdatedDateTime: o.riskLastUpdatedDateTime ?? null,
  };
}

function riskyUser(o: DirObject): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.riskyUser',
    id: o.id,
    isDeleted: o.deleted === true,
    isProcessing: false,
    riskLevel: o.riskLevel ?? 'none',
    riskState: o.riskState ?? 'none',
    riskDetail: o.riskDetail ?? 'none',
    riskLastUpdatedDateTime: o.riskLastUpdatedDateTime ?? null,
    userDisplayName: o.displayName ?? null,
    userPrincipalName: o.userPrincipalName ?? null,
  };
}

function riskyAgent(o: DirObject): Record<string, unknown> {
  const t = typeNameOf(o).replace('microsoft.graph.', '');
  const riskyType =
    t === 'agentIdentity' ? 'riskyAgentIdentity' : t === 'agentUser' ? 'riskyAgentUser' : 'riskyAgentIdentityBlueprintPrincipal';
  return {
    '@odata.type': `#microsoft.graph.${riskyType}`,
    id: o.id,
    agentDisplayName: o.displayName ?? null,
    blueprintId: (o.agentIdentityBlueprintId) ?? (t === 'agentIdentityBlueprintPrincipal' ? o.appId : null) ?? null,
    identityType: t,
    isDeleted: o.deleted === true,
    isEnabled: o.accountEnabled !== false,
    isProcessing: false,
    riskDetail: o.riskDetail ?? 'none',
    riskLastModifiedDateTime: o.riskLastUpdatedDateTime ?? null,
    riskLevel: o.riskLevel ?? 'none',
    riskState: o.riskState ?? 'none',
  };
}

function riskyList(
  env: GraphEnv,
  call: GraphCall,
  kind: RiskKind,
  typeName: string,
  toRisky: (o: DirObject) => Record<string, unknown>,
  context: string,
  maxTop: number,
): SimResponse {
  const items: Record<string, unknown>[] = [];
  const sources = kind === 'user' ? env.state.collections.users : kind === 'servicePrincipal' ? env.state.collections.servicePrincipals : [...env.state.collections.servicePrincipals, ...env.state.collections.users];
  for (const o of sources) {
    if (o.riskState !== undefined && riskKindOk(o, kind)) {
      items.push(toRisky(o));
    }
  }
  return list<Record<string, unknown>>(env, call, {
    items,
    typeName,
    keep: () => true,
    toRecord: (r) => r,
    render: (r, opts) => {
      if (!opts.select) {
        return r;
      }
      const out: Record<string, unknown> = { '@odata.type': r['@odata.type'], id: r.id };
      for (const p of opts.select) {
        out[p] = r[p] ?? null;
      }
      return out;
    },
    maxTop,
    defaultTop: Math.min(maxTop, 100),
    context,
  });
}

const emptyList =
  (context: string): Handler =>
  (env, call) =>
    json(200, { '@odata.context': contextUrl(env, call, context), value: [] });

const SP = 'microsoft.graph.servicePrincipal';
const AGENT = 'microsoft.graph.agentIdentity';
const BLUEPRINT_SP = 'microsoft.graph.agentIdentityBlueprintPrincipal';
const USER = 'microsoft.graph.user';
const AGENT_USER = 'microsoft.graph.agentUser';
const BLUEPRINT_APP = 'microsoft.graph.agentIdentityBlueprint';

const CSA_DEFINITIONS = [
  {
    id: 'AgentLifecycle_ExpiresOn',
    attributeSet: 'AgentLifecycle',
    name: 'ExpiresOn',
    description: 'Date (YYYY-MM-DD) after which the agent must be disabled',
    isCollection: false,
    isSearchable: true,
    status: 'Available',
    type: 'String',
    usePreDefinedValuesOnly: false,
  },
];

function ownedByResponder(env: GraphEnv, id: string): boolean {
  const o = env.state.live(id);
  return !!o && (o.owners ?? []).some((x) => x.toLowerCase() === env.state.responder.objectId.toLowerCase());
}

/** Routes keyed `METHOD template` exactly as in the subset (and the extension list in openapi-validator.ts). */
const HANDLERS: Record<string, Handler> = {
  'GET /servicePrincipals': (env, call) =>
    listDirectory(env, call, env.state.collections.servicePrincipals, SP, 'servicePrincipals', 999),
  'GET /servicePrincipals/{servicePrincipal-id}': getOf(SP, 'servicePrincipals/$entity'),
  "GET /servicePrincipals(appId='{appId}')": (env, call, route) => {
    const appId = route.params.appId ?? '';
    const o = env.state.liveByAppId(appId);
    return o ? getOne(env, call, o, SP, 'servicePrincipals/$entity') : notFound(appId);
  },
  'PATCH /servicePrincipals/{servicePrincipal-id}': patchOf(SP),
  'DELETE /servicePrincipals/{servicePrincipal-id}': deleteOf(SP),
  'POST /servicePrincipals/{servicePrincipal-id}/microsoft.graph.removePassword': (env, call, route) => {
    const o = find(env, firstParam(route), SP);
    if (isResponse(o)) {
      return o;
    }
    const keyId = param(call.body, 'keyId');
    const creds = (o.passwordCredentials as Record<string, unknown>[] | undefined) ?? [];
    const i = creds.findIndex((c) => typeof keyId === 'string' && String(c.keyId).toLowerCase() === keyId.toLowerCase());
    if (i < 0) {
      return graphError(400, 'Request_BadRequest', `No password credential with keyId '${String(keyId)}' was found.`);
    }
    o.passwordCredentials = creds.filter((_, j) => j !== i);
    return { status: 204 };
  },
  'POST /servicePrincipals/{servicePrincipal-id}/microsoft.graph.removeKey': (env, call, route) => {
    const o = find(env, firstParam(route), SP);
    if (isResponse(o)) {
      return o;
    }
    const keyId = param(call.body, 'keyId');
    const proof = param(call.body, 'proof');
    const creds = (o.keyCredentials as Record<string, unknown>[] | undefined) ?? [];
    const i = creds.findIndex((c) => typeof keyId === 'string' && String(c.keyId).toLowerCase() === keyId.toLowerCase());
    if (i < 0) {
      return graphError(400, 'Request_BadRequest', `No key credential with keyId '${String(keyId)}' was found.`);
    }
    if (typeof proof !== 'string' || proof.split('.').length !== 3) {
      return graphError(400, 'Request_BadRequest', 'The proof is not a valid JWT signed by an existing key of the object.');
    }
    o.keyCredentials = creds.filter((_, j) => j !== i);
    return { status: 204 };
  },
  'GET /servicePrincipals/{servicePrincipal-id}/owners': navOf(SP, 'owners'),
  'GET /servicePrincipals/{servicePrincipal-id}/appRoleAssignments': (env, call, route) => {
    const o = find(env, firstParam(route), SP);
    if (isResponse(o)) {
      return o;
    }
    return json(200, {
      '@odata.context': contextUrl(env, call, `servicePrincipals('${o.id}')/appRoleAssignments`),
      value: (o.appRoleAssignments as unknown[] | undefined) ?? [],
    });
  },
  'DELETE /servicePrincipals/{servicePrincipal-id}/appRoleAssignments/{appRoleAssignment-id}': (env, _call, route) => {
    const o = find(env, route.params['servicePrincipal-id'] ?? '', SP);
    if (isResponse(o)) {
      return o;
    }
    const araId = route.params['appRoleAssignment-id'] ?? '';
    const list = (o.appRoleAssignments as Record<string, unknown>[] | undefined) ?? [];
    const rest = list.filter((a) => String(a.id).toLowerCase() !== araId.toLowerCase());
    if (rest.length === list.length) {
      return notFound(araId);
    }
    o.appRoleAssignments = rest;
    return { status: 204 };
  },
  'GET /servicePrincipals/{servicePrincipal-id}/oauth2PermissionGrants': (env, call, route) => {
    const o = find(env, firstParam(route), SP);
    if (isResponse(o)) {
      return o;
    }
    return json(200, {
      '@odata.context': contextUrl(env, call, 'oauth2PermissionGrants'),
      value: (o.oauth2PermissionGrants as unknown[] | undefined) ?? [],
    });
  },
  'DELETE /oauth2PermissionGrants/{oAuth2PermissionGrant-id}': (env, _call, route) => {
    const grantId = firstParam(route).toLowerCase();
    for (const sp of env.state.collections.servicePrincipals) {
      const grants = (sp.oauth2PermissionGrants as Record<string, unknown>[] | undefined) ?? [];
      const rest = grants.filter((g) => String(g.id).toLowerCase() !== grantId);
      if (rest.length !== grants.length) {
        sp.oauth2PermissionGrants = rest;
        return { status: 204 };
      }
    }
    return notFound(firstParam(route));
  },
  'GET /servicePrincipals/microsoft.graph.agentIdentity': (env, call) =>
    listDirectory(env, call, env.state.collections.servicePrincipals, AGENT, 'servicePrincipals/microsoft.graph.agentIdentity', 100),
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity': getOf(
    AGENT,
    'servicePrincipals/microsoft.graph.agentIdentity/$entity',
  ),
  'PATCH /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity': patchOf(AGENT),
  'DELETE /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity': deleteOf(AGENT),
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity/sponsors': navOf(AGENT, 'sponsors'),
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity/owners': navOf(AGENT, 'owners'),
  'GET /servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal': (env, call) =>
    listDirectory(
      env,
      call,
      env.state.collections.servicePrincipals,
      BLUEPRINT_SP,
      'servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal',
      100,
    ),
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal': getOf(
    BLUEPRINT_SP,
    'servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal/$entity',
  ),
  'PATCH /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal': patchOf(BLUEPRINT_SP),
  'DELETE /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal': deleteOf(BLUEPRINT_SP),
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal/sponsors': navOf(
    BLUEPRINT_SP,
    'sponsors',
  ),
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal/owners': navOf(
    BLUEPRINT_SP,
    'owners',
  ),
  'GET /applications/microsoft.graph.agentIdentityBlueprint': (env, call) =>
    listDirectory(env, call, env.state.collections.applications, BLUEPRINT_APP, 'applications/microsoft.graph.agentIdentityBlueprint', 999),
  'GET /applications/{application-id}/microsoft.graph.agentIdentityBlueprint/sponsors': navOf(BLUEPRINT_APP, 'sponsors'),
  'GET /users/microsoft.graph.agentUser': (env, call) =>
    listDirectory(env, call, env.state.collections.users, AGENT_USER, 'users/microsoft.graph.agentUser', 999),
  'GET /users/{user-id}': (env, call, route) => {
    const id = firstParam(route);
    const o = env.state.liveUser(id);
    return o ? getOne(env, call, o, USER, 'users/$entity') : notFound(id);
  },
  'PATCH /users/{user-id}': (env, call, route) => {
    const id = firstParam(route);
    const o = env.state.liveUser(id);
    if (!o) {
      return notFound(id);
    }
    applyPatch(env, o, call.body as Record<string, unknown>);
    return { status: 204 };
  },
  'PATCH /users/{user-id}/microsoft.graph.agentUser': patchOf(AGENT_USER),
  'DELETE /users/{user-id}/microsoft.graph.agentUser': deleteOf(AGENT_USER),
  'GET /users/{user-id}/sponsors': (env, call, route) => {
    const id = firstParam(route);
    const o = env.state.liveUser(id);
    if (!o) {
      return notFound(id);
    }
    return refList(env, call, o.sponsors ?? []);
  },
  'GET /groups/{group-id}/transitiveMembers': (env, call, route) => {
    const o = find(env, firstParam(route), 'microsoft.graph.group');
    return isResponse(o) ? o : refList(env, call, transitiveMembers(env, o.id));
  },
  'GET /users/{user-id}/memberOf': (env, call, route) => {
    const id = firstParam(route);
    const o = env.state.liveUser(id);
    if (!o) {
      return notFound(id);
    }
    return json(200, { '@odata.context': contextUrl(env, call, 'directoryObjects'), value: refs(env, o.memberOf ?? []) });
  },
  'POST /users/{user-id}/microsoft.graph.checkMemberGroups': (env, call, route) => {
    const id = firstParam(route);
    const o = env.state.liveUser(id);
    if (!o) {
      return notFound(id);
    }
    const groupIds = idList(call.body, 'groupIds', 20);
    if (!Array.isArray(groupIds)) {
      return groupIds;
    }
    const member = new Set((o.memberOf ?? []).map((g) => g.toLowerCase()));
    return json(200, {
      '@odata.context': contextUrl(env, call, 'Collection(Edm.String)'),
      value: groupIds.filter((g) => member.has(g.toLowerCase())),
    });
  },
  'POST /users/{user-id}/microsoft.graph.revokeSignInSessions': (env, call, route) => {
    const id = firstParam(route);
    const o = env.state.liveUser(id);
    if (!o) {
      return notFound(id);
    }
    o.signInSessionsValidFromDateTime = new Date().toISOString();
    return json(200, { '@odata.context': contextUrl(env, call, 'Edm.Boolean'), value: true });
  },
  'POST /users/{user-id}/microsoft.graph.sendMail': (env, call, route) => {
    const id = firstParam(route);
    const o = env.state.liveUser(id);
    if (!o) {
      return notFound(id);
    }
    if (typeof o.mail !== 'string' || !o.mail) {
      return graphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
    }
    const message = param(call.body, 'message');
    if (!isRecord(message)) {
      return graphError(400, 'ErrorInvalidRequest', "The 'message' parameter is required.");
    }
    const recipients = Array.isArray(message.toRecipients) ? (message.toRecipients as unknown[]) : [];
    const to = recipients
      .map((r) => (isRecord(r) && isRecord(r.emailAddress) ? r.emailAddress.address : undefined))
      .filter((a): a is string => typeof a === 'string');
    if (to.length === 0) {
      return graphError(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid., A message can\'t be sent because it contains no recipients.');
    }
    env.state.mail.push({
      id: newGuid(),
      from: String(o.mail),
      fromId: o.id,
      at: Date.now(),
      message,
      saveToSentItems: param(call.body, 'saveToSentItems') !== false,
      to,
      subject: typeof message.subject === 'string' ? message.subject : '',
    });
    return { status: 202 };
  },
  'POST /directoryObjects/microsoft.graph.getByIds': (env, call) => {
    const ids = param(call.body, 'ids');
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) {
      return graphError(400, 'Request_BadRequest', "The request body must contain an 'ids' array of strings.");
    }
    if (ids.length > 1000) {
      return graphError(400, 'Request_BadRequest', `Too many ids in the request: ${ids.length}; at most 1000 are allowed.`);
    }
    const types = param(call.body, 'types');
    const typeList = Array.isArray(types) ? types.filter((t): t is string => typeof t === 'string') : [];
    const value: Record<string, unknown>[] = [];
    const opts = shapeOptions(env, call, 'microsoft.graph.directoryObject');
    for (const id of ids) {
      const o = env.state.live(id);
      if (!o) {
        continue;
      }
      if (typeList.length > 0 && !typeList.some((t) => isOfType(o, t))) {
        continue;
      }
      value.push(shape(env, o, opts));
    }
    return json(200, { '@odata.context': contextUrl(env, call, 'directoryObjects'), value });
  },
  'GET /directoryObjects/{directoryObject-id}': (env, call, route) => {
    const id = firstParam(route);
    const o = env.state.live(id);
    return o ? getOne(env, call, o, 'microsoft.graph.directoryObject', 'directoryObjects/$entity') : notFound(id);
  },
  'GET /directory/customSecurityAttributeDefinitions': (env, call) =>
    json(200, { '@odata.context': contextUrl(env, call, 'directory/customSecurityAttributeDefinitions'), value: CSA_DEFINITIONS }),
  'GET /identityProtection/riskyServicePrincipals': (env, call) =>
    riskyList(env, call, 'servicePrincipal', 'microsoft.graph.riskyServicePrincipal', riskyServicePrincipal, 'identityProtection/riskyServicePrincipals', 500),
  'GET /identityProtection/riskyServicePrincipals/{riskyServicePrincipal-id}': (env, call, route) => {
    const id = firstParam(route);
    const o = env.state.live(id);
    if (!o || !riskKindOk(o, 'servicePrincipal') || o.riskState === undefined) {
      return notFound(id);
    }
    return json(200, {
      '@odata.context': contextUrl(env, call, 'identityProtection/riskyServicePrincipals/$entity'),
      ...riskyServicePrincipal(o),
    });
  },
  'GET /identityProtection/riskyServicePrincipals/{riskyServicePrincipal-id}/history': emptyList(
    'identityProtection/riskyServicePrincipals/history',
  ),
  'POST /identityProtection/riskyServicePrincipals/microsoft.graph.confirmCompromised': riskAction(
    'servicePrincipal',
    'servicePrincipalIds',
    'compromised',
  ),
  'POST /identityProtection/riskyServicePrincipals/microsoft.graph.dismiss': riskAction(
    'servicePrincipal',
    'servicePrincipalIds',
    'dismissed',
    60,
  ),
  'GET /identityProtection/servicePrincipalRiskDetections': emptyList('identityProtection/servicePrincipalRiskDetections'),
  'GET /identityProtection/riskDetections': emptyList('identityProtection/riskDetections'),
  'GET /identityProtection/agentRiskDetections': emptyList('identityProtection/agentRiskDetections'),
  'GET /identityProtection/riskyUsers': (env, call) =>
    riskyList(env, call, 'user', 'microsoft.graph.riskyUser', riskyUser, 'identityProtection/riskyUsers', 500),
  'POST /identityProtection/riskyUsers/microsoft.graph.confirmCompromised': riskAction('user', 'userIds', 'compromised'),
  'POST /identityProtection/riskyUsers/microsoft.graph.dismiss': riskAction('user', 'userIds', 'dismissed', 60),
  'GET /identityProtection/riskyAgents': (env, call) =>
    riskyList(env, call, 'agent', 'microsoft.graph.riskyAgent', riskyAgent, 'identityProtection/riskyAgents', 500),
  'POST /identityProtection/riskyAgents/microsoft.graph.confirmCompromised': riskAction('agent', 'agentIds', 'compromised'),
  'POST /identityProtection/riskyAgents/microsoft.graph.dismiss': riskAction('agent', 'agentIds', 'dismissed'),
  'POST /identityProtection/riskyAgents/microsoft.graph.confirmSafe': riskAction('agent', 'agentIds', 'safe'),
};

/** Routes that count as directory writes for the 3,000 per 150 s limit. */
function isDirectoryWrite(method: string, template: string): boolean {
  if (method === 'GET') {
    return false;
  }
  if (!template.startsWith('/servicePrincipals') && !template.startsWith('/users') && !template.startsWith('/oauth2PermissionGrants')) {
    return false;
  }
  return !/sendMail|checkMemberGroups/.test(template);
}

/**
 * Route one Graph call: resolve it against the OpenAPI subset, check the body, the permission and the
 * throttles, then run the handler. `$batch` is handled by the caller (graph-batch.ts).
 */
export function handleGraphCall(env: GraphEnv, call: GraphCall): SimResponse {
  try {
    return routeGraphCall(env, call);
  } catch (err) {
    if (err instanceof ODataError) {
      return graphError(400, err.code, err.message);
    }
    throw err;
  }
}

function routeGraphCall(env: GraphEnv, call: GraphCall): SimResponse {
  const method = call.method.toUpperCase();
  const segments = normaliseSegments(call.path);
  const matched = matchGraphPath(call.version, method, segments);
  if (!matched.ok) {
    return graphError(400, 'BadRequest', `Resource not found for the segment '${matched.segment}'.`);
  }
  const route = matched.match;
  const key = `${method} ${route.template}`;
  const handler = HANDLERS[key];
  if (!handler) {
    return graphError(501, 'NotImplemented', `The simulator does not implement ${key}.`);
  }
  if (call.bodyInvalid) {
    return graphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  }
  if (route.body || method === 'PATCH') {
    const bad = validateBody(call.version, route.body, call.body);
    if (bad) {
      return graphError(400, bad.code, bad.message);
    }
  }
  const required = ROUTE_PERMISSIONS[key];
  if (required) {
    const g = granted(env);
    const ownedByOk =
      OWNED_BY_ROUTES.has(key) && g !== 'all' && g.includes('Application.ReadWrite.OwnedBy') && ownedByResponder(env, firstParam(route));
    if (!allowsRoute(g, required) && !ownedByOk) {
      return graphError(
        403,
        'Authorization_RequestDenied',
        `Insufficient privileges to complete the operation. Missing application permission: ${missingForRoute(g, required).join(' and ')}`,
      );
    }
  }
  const knobs = env.knobs();
  if (knobs.identityProtectionThrottle && route.template.startsWith('/identityProtection')) {
    if (!env.ipBucket.take()) {
      // NOTE: Identity Protection sends no Retry-After (learn.microsoft.com/graph/throttling-limits).
      return graphError(429, 'TooManyRequests', 'Too many requests. Identity Protection allows 1 request per second per tenant.');
    }
  }
  if (knobs.directoryWriteThrottle && isDirectoryWrite(method, route.template)) {
    const wait = env.writeWindow.take();
    if (wait !== undefined) {
      return graphError(429, 'TooManyRequests', 'Too many directory writes: 3000 per 150 seconds per application.', {
        'Retry-After': String(wait),
      });
    }
  }
  return handler(env, call, route);
}
