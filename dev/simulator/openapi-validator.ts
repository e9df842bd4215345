import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRecord } from './sim-http';

export type GraphVersion = 'v1.0' | 'beta';

interface Schema {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  nullable?: boolean;
  items?: Schema;
  enum?: unknown[];
  readOnly?: boolean;
}

interface Operation {
  operationId?: string;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

interface VersionDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/**
 * Paths the app needs that the OpenAPI subset lacks (the subset was resolved from CSDL, and these are either
 * documented-only actions or navigations the generator did not emit). Each is documented on learn.microsoft.com:
 * directoryobject-getbyids, directoryobject-get, user-get, user-checkmembergroups, user-list-memberof, group-list-transitivemembers,
 * agentidentityblueprintprincipal-get / -delete / -list-owners. They are allowed in both versions.
 */
const EXTENSION_PATHS: { method: string; path: string; body?: Schema }[] = [
  {
    method: 'post',
    path: '/directoryObjects/microsoft.graph.getByIds',
    body: {
      type: 'object',
      additionalProperties: false,
      properties: { ids: { type: 'array', items: { type: 'string' } }, types: { type: 'array', items: { type: 'string' } } },
    },
  },
  { method: 'get', path: '/directoryObjects/{directoryObject-id}' },
  { method: 'get', path: '/users/{user-id}' },
  {
    method: 'post',
    path: '/users/{user-id}/microsoft.graph.checkMemberGroups',
    body: { type: 'object', additionalProperties: false, properties: { groupIds: { type: 'array', items: { type: 'string' } } } },
  },
  { method: 'get', path: '/users/{user-id}/memberOf' },
  { method: 'get', path: '/groups/{group-id}/transitiveMembers' },
  { method: 'get', path: '/servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal' },
  { method: 'delete', path: '/servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal' },
  { method: 'get', path: '/servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal/owners' },
];

/** Bound operations and casts that may be written without the `microsoft.graph.` prefix. */
const UNPREFIXED = new Map(
  [
    'revokeSignInSessions',
    'sendMail',
    'confirmCompromised',
    'dismiss',
    'confirmSafe',
    'agentIdentity',
    'agentIdentityBlueprintPrincipal',
    'agentIdentityBlueprint',
    'agentUser',
    'removePassword',
    'removeKey',
    'getByIds',
    'checkMemberGroups',
  ].map((n) => [n.toLowerCase(), `microsoft.graph.${n}`]),
);

interface SegmentMatcher {
  literal?: string;
  param?: string;
  regex?: RegExp;
}

interface CompiledPath {
  template: string;
  segments: SegmentMatcher[];
  literalCount: number;
  methods: Map<string, { body?: Schema }>;
}

interface CompiledVersion {
  doc: VersionDoc;
  paths: CompiledPath[];
  propertyCache: Map<string, Map<string, string> | null>;
}

function compileSegment(seg: string): SegmentMatcher {
  const whole = /^\{([^}]+)\}$/.exec(seg);
  if (whole?.[1]) {
    return { param: whole[1] };
  }
  if (seg.includes('{')) {
    // Key-as-segment form, e.g. servicePrincipals(appId='{appId}').
    const names: string[] = [];
    const source = seg
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const p = /^\{([^}]+)\}$/.exec(part);
        if (p?.[1]) {
          names.push(p[1]);
          return "([^']*)";
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    return { regex: new RegExp(`^${source}$`, 'i'), param: names[0] };
  }
  return { literal: seg.toLowerCase() };
}

function compileVersion(doc: VersionDoc): CompiledVersion {
  const byTemplate = new Map<string, CompiledPath>();
  const add = (template: string, method: string, body: Schema | undefined): void => {
    let cp = byTemplate.get(template);
    if (!cp) {
      const segments = template.split('/').slice(1).map(compileSegment);
      cp = { template, segments, literalCount: segments.filter((s) => s.literal).length, methods: new Map() };
      byTemplate.set(template, cp);
    }
    cp.methods.set(method, { body });
  };
  for (const [template, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!['get', 'post', 'patch', 'put', 'delete'].includes(method)) {
        continue;
      }
      add(template, method, op.requestBody?.content?.['application/json']?.schema);
    }
  }
  for (const ext of EXTENSION_PATHS) {
    add(ext.path, ext.method, ext.body);
  }
  // Most literal segments first, so /users/microsoft.graph.agentUser wins over /users/{user-id}.
  const paths = [...byTemplate.values()].sort(
    (a, b) => b.literalCount - a.literalCount || b.segments.length - a.segments.length,
  );
  return { doc, paths, propertyCache: new Map() };
}

let compiled: Record<GraphVersion, CompiledVersion> | undefined;

function versions(): Record<GraphVersion, CompiledVersion> {
  if (!compiled) {
    // Read at run time (not imported) so the 600 kB document is not type-checked or bundled.
    const file = join(__dirname, 'graph-openapi-subset.json');
    const text = readFileSync(existsOrSource(file), 'utf8');
    const all = JSON.parse(text) as Record<GraphVersion, VersionDoc>;
    compiled = { 'v1.0': compileVersion(all['v1.0']), beta: compileVersion(all.beta) };
  }
  return compiled;
}

/** Under dist/ the JSON is not copied by tsc (it is read, not imported); fall back to the source tree. */
function existsOrSource(file: string): string {
  const candidates = [
    file,
    join(__dirname, '..', '..', '..', 'dev', 'simulator', 'graph-openapi-subset.json'),
    join(process.cwd(), 'dev', 'simulator', 'graph-openapi-subset.json'),
  ];
  return candidates.find((c) => existsSync(c)) ?? file;
}

export interface RouteMatch {
  template: string;
  params: Record<string, string>;
  body?: Schema;
}

export type MatchResult = { ok: true; match: RouteMatch } | { ok: false; segment: string };

/** Split and decode a Graph path, adding `microsoft.graph.` to bound operations and casts written without it. */
export function normaliseSegments(path: string): string[] {
  return path
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      let d = s;
      try {
        d = decodeURIComponent(s);
      } catch {
        // keep the raw segment; it will not match and the caller gets Graph's 400
      }
      return UNPREFIXED.get(d.toLowerCase()) ?? d;
    });
}

function segmentMatches(m: SegmentMatcher, seg: string): string | boolean {
  if (m.literal !== undefined) {
    return m.literal === seg.toLowerCase();
  }
  if (m.regex) {
    const r = m.regex.exec(seg);
    return r ? (r[1] ?? '') : false;
  }
  return seg.length > 0 ? seg : false;
}

/**
 * Resolve a request path (after the version) against the subset of its version. A path or method the subset
 * does not allow gets the segment Graph would name in "Resource not found for the segment '…'".
 */
export function matchGraphPath(version: GraphVersion, method: string, segments: string[]): MatchResult {
  const v = versions()[version];
  const m = method.toLowerCase();
  for (const cp of v.paths) {
    if (cp.segments.length !== segments.length) {
      continue;
    }
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segments.length; i++) {
      const matcher = cp.segments[i] as SegmentMatcher;
      const r = segmentMatches(matcher, segments[i] as string);
      if (r === false) {
        ok = false;
        break;
      }
      if (matcher.param && typeof r === 'string') {
        params[matcher.param] = r;
      }
    }
    if (ok && cp.methods.has(m)) {
      return { ok: true, match: { template: cp.template, params, body: cp.methods.get(m)?.body } };
    }
  }
  return { ok: false, segment: unmatchedSegment(v, segments) };
}

function unmatchedSegment(v: CompiledVersion, segments: string[]): string {
  for (let i = 0; i < segments.length; i++) {
    const prefixOk = v.paths.some((cp) => {
      if (cp.segments.length <= i) {
        return false;
      }
      for (let j = 0; j <= i; j++) {
        if (segmentMatches(cp.segments[j] as SegmentMatcher, segments[j] as string) === false) {
          return false;
        }
      }
      return true;
    });
    if (!prefixOk) {
      return segments[i] as string;
    }
  }
  return segments[segments.length - 1] ?? '';
}

function resolveRef(v: CompiledVersion, schema: Schema): { name?: string; schema: Schema } {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return { name, schema: v.doc.components.schemas[name] ?? {} };
  }
  return { schema };
}

/** Properties of an entity type (canonical names, keyed lower-case), or null if the type is not in the subset. */
export function entityProperties(version: GraphVersion, typeName: string): Map<string, string> | null {
  const v = versions()[version];
  const cached = v.propertyCache.get(typeName);
  if (cached !== undefined) {
    return cached;
  }
  const schema = v.doc.components.schemas[typeName];
  let out: Map<string, string> | null = null;
  if (schema) {
    out = new Map();
    for (const [key, p] of propertySchemas(v, schema)) {
      out.set(key, p.name);
    }
  }
  v.propertyCache.set(typeName, out);
  return out;
}

function propertySchemas(v: CompiledVersion, schema: Schema): Map<string, { name: string; schema: Schema }> {
  const out = new Map<string, { name: string; schema: Schema }>();
  const walk = (sch: Schema, depth: number): void => {
    if (depth > 10) {
      return;
    }
    const { schema: s } = resolveRef(v, sch);
    for (const part of s.allOf ?? []) {
      walk(part, depth + 1);
    }
    for (const [name, p] of Object.entries(s.properties ?? {})) {
      out.set(name.toLowerCase(), { name, schema: p });
    }
  };
  walk(schema, 0);
  return out;
}

/** The entity type a request-body schema stands for (`allOf: [$ref]` / `$ref`), if it is an entity. */
function bodyTypeName(schema: Schema): string | undefined {
  if (schema.$ref) {
    return schema.$ref.replace('#/components/schemas/', '');
  }
  const ref = schema.allOf?.find((p) => p.$ref)?.$ref;
  return ref?.replace('#/components/schemas/', '');
}

export interface BodyError {
  code: string;
  message: string;
}

function primitiveOk(v: CompiledVersion, schema: Schema, value: unknown): boolean {
  if (value === null) {
    return schema.nullable === true || schema.type === undefined;
  }
  const { schema: s } = resolveRef(v, schema);
  switch (s.type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string' && (!s.enum || s.enum.includes(value));
    case 'integer':
    case 'number':
      return typeof value === 'number';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isRecord(value);
    default:
      return true;
  }
}

/**
 * Check a request body against the path's request-body schema: every top-level property must exist on the
 * type (entity bodies follow `allOf`/`$ref` to inherited properties; action parameters match
 * case-insensitively, as Graph does for `Message` / `message`), and simple values must have the right type.
 */
export function validateBody(version: GraphVersion, schema: Schema | undefined, body: unknown): BodyError | undefined {
  if (!schema) {
    return undefined;
  }
  const v = versions()[version];
  if (body === undefined) {
    return { code: 'BadRequest', message: 'Empty Payload. JSON content expected.' };
  }
  if (!isRecord(body)) {
    return { code: 'BadRequest', message: 'Invalid request body: a JSON object is expected.' };
  }
  const typeName = bodyTypeName(schema);
  const props = propertySchemas(v, schema);
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@odata.')) {
      continue;
    }
    const p = props.get(key.toLowerCase());
    if (!p) {
      return typeName
        ? { code: 'Request_BadRequest', message: `Property '${key}' does not exist on type '${typeName}'.` }
        : {
            code: 'BadRequest',
            message: `The parameter '${key}' in the request payload is not a valid parameter for the operation.`,
          };
    }
    if (!primitiveOk(v, p.schema, value)) {
      const shortType = typeName ? typeName.replace('microsoft.graph.', '') : 'the operation';
      return {
        code: typeName ? 'Request_BadRequest' : 'BadRequest',
        message: `Invalid value specified for property '${p.name}' of resource '${shortType}'.`,
      };
    }
  }
  return undefined;
}
