import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { targetKey, type ParsedAlert } from '../../../shared/alerts/alert-types';
import { MAX_REJECTED_LISTED } from '../../../shared/alerts/collect-targets';
import { MAX_PROBLEMS } from '../../../shared/alerts/issues-to-fields';
import { parseAlert } from '../../../shared/alerts/parse-alert';
import { MAX_ENTITIES } from '../../../shared/alerts/sentinel-entity';
import { ValidationError } from '../../../shared/errors';
import { loadFixture } from './load-fixture';

// Hostile bodies at the parser: every body either parses into a bounded, well-formed ParsedAlert or is refused
// with a ValidationError naming the field that was tampered with. Never any other exception (issue 14, item 7).

type Json = Record<string, unknown>;
type Path = ReadonlyArray<string | number>;

const FIXTURES = [
  'incident-trigger.camel.json',
  'incident-trigger.pascal.json',
  'alert-trigger.entities-array.json',
  'entity-trigger.json',
  'direct-request.json',
] as const;

// --- hostile strings -------------------------------------------------------------------------------------

const control = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const reserved = fc.constantFrom('/', '\\', '#', '?', '%', '%2F', '..', '\u0000', '\u007f', "'", '"', '@', ' ');
const plain = fc.string({ maxLength: 8 });
const piece = fc.oneof(control, loneSurrogate, reserved, plain, fc.uuid(), fc.constantFrom('contoso.com', 'agent', '[', ']'));
const shortHostile = fc.array(piece, { minLength: 1, maxLength: 12 }).map((parts) => parts.join(''));
/** 4,096 characters and more, on both sides of the 10,000-character field limit. */
const longHostile = fc
  .tuple(shortHostile, fc.integer({ min: 4096, max: 12_000 }))
  .map(([seed, n]) => (seed === '' ? 'x' : seed).repeat(Math.ceil(n / Math.max(seed.length, 1))).slice(0, n));
const hostileString = fc.oneof({ weight: 4, arbitrary: shortHostile }, { weight: 1, arbitrary: longHostile });

/** Arrays or objects nested 60 to 3,000 deep, built directly (no JSON text), with a hostile leaf. */
const deepValue = fc.tuple(fc.integer({ min: 60, max: 3000 }), fc.boolean(), shortHostile).map(([depth, arrays, leaf]) => {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) {
    v = arrays ? [v] : { properties: v, kind: 'Account' };
  }
  return v;
});

/**
 * Small literals, a fresh copy each time: a body is mutated in place, so one shared `[null]` placed twice in a
 * body (or kept from an earlier run) would end up inside itself, a body no JSON text can make.
 */
const literal = fc
  .constantFrom(null, true, 0, -1, 1e308, 11161, [], {}, [null], ['agent@contoso.com'])
  .map((v): unknown => (typeof v === 'object' && v !== null ? (JSON.parse(JSON.stringify(v)) as unknown) : v));

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  literal,
  deepValue,
  fc.array(hostileString, { maxLength: 5 }),
  fc.dictionary(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'Kind', 'AadUserId', 'properties'), shortHostile), hostileString, { maxKeys: 4 }),
);

// --- mutations of a valid body -----------------------------------------------------------------------------

/** Every path in `value` below the root (objects and arrays only; deep values are not walked). */
function pathsOf(value: unknown, base: Path = [], out: Path[] = [], depth = 0): Path[] {
  if (depth > 12) {
    return out;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...base, i]);
      pathsOf(v, [...base, i], out, depth + 1);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      out.push([...base, key]);
      pathsOf((value as Json)[key], [...base, key], out, depth + 1);
    }
  }
  return out;
}

function parentOf(body: Json, path: Path): Json | unknown[] {
  let node: unknown = body;
  for (const key of path.slice(0, -1)) {
    node = (node as Json)[key as string];
  }
  return node as Json | unknown[];
}

/** `a.b[2].c`, as the parser names fields. */
function formatPath(path: Path): string {
  return path.reduce<string>((out, k) => (typeof k === 'number' ? `${out}[${k}]` : out === '' ? k : `${out}.${k}`), '');
}

type Mutation =
  | { kind: 'value'; at: number; value: unknown }
  | { kind: 'recase'; at: number; upper: boolean[] }
  | { kind: 'twice'; at: number; value: unknown }
  | { kind: 'entities'; count: number; entity: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('value' as const), at: fc.nat(), value: hostileValue }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('recase' as const), at: fc.nat(), upper: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('twice' as const), at: fc.nat(), value: hostileValue }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('entities' as const),
      // A thousand entities and more (the test below goes further), and now and then just past the limit.
      count: fc.oneof(fc.integer({ min: 1000, max: 1200 }), fc.integer({ min: MAX_ENTITIES + 1, max: MAX_ENTITIES + 20 })),
      entity: hostileValue,
    }),
  },
);

/** The entity lists a body of each shape carries, by path as posted. */
function entityListPaths(body: Json): Path[] {
  const obj = (body.object ?? body.Object) as Json | undefined;
  if (obj !== undefined) {
    const props = Object.keys(obj).find((k) => k.toLowerCase() === 'properties');
    const list = Object.keys((obj[props ?? ''] ?? {}) as Json).find((k) => k.toLowerCase() === 'relatedentities');
    return props !== undefined && list !== undefined ? [[body.object === undefined ? 'Object' : 'object', props, list]] : [];
  }
  return 'Entities' in body ? [['Entities']] : [];
}

/**
 * Applies `m` to `body` in place; returns the path it touched (as posted), so a refusal can be checked to name
 * it. Paths are drawn from the body as it is when the mutation applies.
 */
function apply(body: Json, m: Mutation): Path | undefined {
  if (m.kind === 'entities') {
    const lists = entityListPaths(body);
    const path = lists[0];
    if (path === undefined) {
      return undefined;
    }
    const template = (parentOf(body, path) as Json)[path[path.length - 1] as string];
    const examples: unknown[] = Array.isArray(template) && template.length > 0 ? template : [null];
    // The same objects again and again: the parser never changes its input, so no copies are needed.
    (parentOf(body, path) as Json)[path[path.length - 1] as string] = Array.from({ length: m.count }, (_, i): unknown =>
      i % 7 === 3 ? m.entity : examples[i % examples.length],
    );
    return path;
  }
  const paths = pathsOf(body);
  const path = paths[m.at % paths.length];
  if (path === undefined) {
    return undefined;
  }
  const parent = parentOf(body, path);
  const key = path[path.length - 1] as string | number;
  if (m.kind === 'value') {
    (parent as Json)[key as string] = m.value;
    return path;
  }
  if (typeof key !== 'string' || Array.isArray(parent)) {
    return undefined;
  }
  if (m.kind === 'recase') {
    const spelled = [...key].map((c, i) => (m.upper[i % m.upper.length] ? c.toUpperCase() : c.toLowerCase())).join('');
    const value = parent[key];
    delete parent[key];
    parent[spelled] = value;
    return [...path.slice(0, -1), spelled];
  }
  // The same field once more in another letter case, with another value.
  const other = key === key.toUpperCase() ? key.toLowerCase() : key.toUpperCase();
  if (other === key) {
    return undefined;
  }
  parent[other] = m.value;
  return [...path.slice(0, -1), other];
}

/**
 * Whether a refused field `field` can be blamed on a change at `touched`: the field itself, one of its
 * ancestors (a list that became too long, an Entity nested too deeply), one of its descendants, or the same
 * in another letter case (a key given twice). The incident id and `workspaceInfo` are checked against each
 * other, so a change to either may be named at the other.
 */
function blames(field: string, touched: string): boolean {
  const f = field.toLowerCase();
  const t = touched.toLowerCase();
  const related = (a: string, b: string): boolean => a === b || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
  if (f === '$' || related(f, t) || related(t, f)) {
    return true;
  }
  const workspaceParts = ['workspaceinfo', 'object.id', 'incidentarmid'];
  return workspaceParts.some((w) => related(w, t)) && workspaceParts.some((w) => related(w, f));
}

// --- what every parsed alert must be -----------------------------------------------------------------------

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Written out here rather than imported, so that a broken check in the parser cannot vouch for itself.
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isSafeUpn = (upn: string): boolean =>
  upn.length <= 1024 && /^[^@\s\u0000-\u001f\u007f]+@[^@\s\u0000-\u001f\u007f]+$/.test(upn) && !LONE.test(upn) && upn === upn.toLowerCase();

function expectBounded(alert: ParsedAlert): void {
  const keys = alert.targets.map(targetKey);
  expect(new Set(keys).size).toBe(keys.length);
  expect(alert.dedupeKey).toMatch(/^(incident|alert|entity|direct):/);
  for (const t of alert.targets) {
    if (t.by === 'upn') {
      expect(isSafeUpn(t.upn), t.upn).toBe(true);
    } else {
      expect(t.by === 'objectId' ? t.objectId : t.appId).toMatch(GUID);
    }
    if (t.by === 'objectId' && t.upn !== undefined) {
      expect(isSafeUpn(t.upn), t.upn).toBe(true);
    }
    expect(t.name === undefined || (t.name.length <= 257 && !LONE.test(t.name))).toBe(true);
  }
  expect(alert.rejected.length).toBeLessThanOrEqual(MAX_REJECTED_LISTED);
  for (const r of alert.rejected) {
    // Path, kind (≤ 65), name (≤ 257) and reason (quotes at most 40 characters of a value): a few hundred.
    const texts = [r.path, r.kind, r.name ?? '', r.reason];
    expect(texts.reduce((n, t) => n + t.length, 0)).toBeLessThan(800);
    expect(texts.some((t) => LONE.test(t))).toBe(false);
  }
  expect(LONE.test(alert.title)).toBe(false);
}

/**
 * Parses `body` (its `Entities` turned into JSON text first when asked: the alert trigger may send them so,
 * and problems inside keep their paths). Gives the bounded alert or the refused fields; anything thrown but
 * a ValidationError fails the test.
 */
function outcomeOf(body: Json, entitiesAsText: boolean): { alert: ParsedAlert } | { refused: string[] } {
  if (entitiesAsText && Array.isArray(body.Entities)) {
    body.Entities = JSON.stringify(body.Entities);
  }
  try {
    const alert = parseAlert(body);
    expectBounded(alert);
    return { alert };
  } catch (err) {
    if (!(err instanceof ValidationError)) {
      throw err;
    }
    expect(err.fields.length).toBeGreaterThan(0);
    expect(err.fields.length).toBeLessThanOrEqual(MAX_PROBLEMS + 1);
    return { refused: err.fields.map((f) => f.field) };
  }
}

function protoSnapshot(): string {
  return JSON.stringify([Object.getOwnPropertyNames(Object.prototype).sort(), Object.getOwnPropertyNames(Array.prototype).sort()]);
}

describe('parseAlert: thousands of mutated bodies', () => {
  it('parses each one into a bounded alert or refuses it naming the field that was changed, and nothing else', { timeout: 120_000 }, () => {
    const before = protoSnapshot();
    const seen = { parsed: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURES),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (fixture, mutations, entitiesAsText) => {
          const body = loadFixture(fixture);
          // Thousands of entities go in last, so no other mutation has to walk them.
          const ordered = [...mutations.filter((m) => m.kind !== 'entities'), ...mutations.filter((m) => m.kind === 'entities')];
          const touched = ordered.map((m) => apply(body, m)).filter((p): p is Path => p !== undefined).map(formatPath);
          const outcome = outcomeOf(body, entitiesAsText);
          if ('refused' in outcome) {
            for (const field of outcome.refused) {
              expect(touched.some((t) => blames(field, t)), `${field} (changed: ${touched.join(', ')})`).toBe(true);
            }
            seen.refused++;
          } else {
            seen.parsed++;
          }
        },
      ),
      { numRuns: 1200 },
    );
    // Both outcomes are exercised: the mutations neither all break the body nor all leave it harmless.
    expect(seen.parsed).toBeGreaterThan(200);
    expect(seen.refused).toBeGreaterThan(200);
    expect(protoSnapshot()).toBe(before);
    expect(({} as Json).polluted).toBeUndefined();
  });
});

// --- named string fields -----------------------------------------------------------------------------------

/** The string fields an attacker would aim at: ids, account names, UPN suffixes, titles. */
const FIELDS: ReadonlyArray<{ fixture: (typeof FIXTURES)[number]; path: Path }> = [
  { fixture: 'alert-trigger.entities-array.json', path: ['SystemAlertId'] },
  { fixture: 'alert-trigger.entities-array.json', path: ['AlertDisplayName'] },
  { fixture: 'alert-trigger.entities-array.json', path: ['WorkspaceResourceGroup'] },
  { fixture: 'alert-trigger.entities-array.json', path: ['Entities', 0, 'Name'] },
  { fixture: 'alert-trigger.entities-array.json', path: ['Entities', 1, 'Name'] },
  { fixture: 'alert-trigger.entities-array.json', path: ['Entities', 1, 'UPNSuffix'] },
  { fixture: 'alert-trigger.entities-array.json', path: ['Entities', 0, 'AadUserId'] },
  { fixture: 'incident-trigger.camel.json', path: ['object', 'properties', 'title'] },
  { fixture: 'incident-trigger.camel.json', path: ['object', 'properties', 'relatedEntities', 1, 'properties', 'accountName'] },
  { fixture: 'incident-trigger.camel.json', path: ['object', 'properties', 'relatedEntities', 1, 'properties', 'upnSuffix'] },
  { fixture: 'incident-trigger.camel.json', path: ['object', 'properties', 'relatedEntities', 1, 'properties', 'friendlyName'] },
  { fixture: 'incident-trigger.pascal.json', path: ['Object', 'Properties', 'RelatedEntities', 2, 'Properties', 'AppId'] },
  { fixture: 'incident-trigger.pascal.json', path: ['Object', 'Properties', 'RelatedEntities', 4, 'Kind'] },
  { fixture: 'incident-trigger.pascal.json', path: ['WorkspaceInfo', 'WorkspaceName'] },
  { fixture: 'entity-trigger.json', path: ['Entity', 'properties', 'Name'] },
  { fixture: 'entity-trigger.json', path: ['Entity', 'properties', 'UPNSuffix'] },
  { fixture: 'entity-trigger.json', path: ['IncidentArmID'] },
  { fixture: 'direct-request.json', path: ['reason'] },
  { fixture: 'direct-request.json', path: ['targets', 2, 'upn'] },
];

describe('parseAlert: hostile strings in each identity field', () => {
  it('accepts the body or refuses it naming that field', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS), hostileString, fc.boolean(), ({ fixture, path }, value, entitiesAsText) => {
        const body = loadFixture(fixture);
        (parentOf(body, path) as Json)[path[path.length - 1] as string] = value;
        const outcome = outcomeOf(body, entitiesAsText);
        if ('refused' in outcome) {
          // That field, or the object holding it (`workspaceInfo` when it no longer names the incident's workspace).
          const touched = formatPath(path);
          for (const field of outcome.refused) {
            expect(touched === field || touched.startsWith(`${field}.`), `${field} (changed: ${touched})`).toBe(true);
          }
        } else if (fixture === 'incident-trigger.camel.json' && path.includes('friendlyName')) {
          // Whatever was posted in a display field, identities named by object id are still found.
          expect(outcome.alert.targets).toHaveLength(3);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

// --- bodies of a thousand entities and more ----------------------------------------------------------------

/**
 * A body's worth of entities from a compact description (so a failing case prints small): `kinds` and
 * `names` are cycled through; every 9th name is stretched to 4,096 to 10,000 characters.
 */
const manyEntities = fc.record({
  count: fc.integer({ min: 1000, max: 2500 }),
  kinds: fc.array(fc.constantFrom('oid' as const, 'app' as const, 'noise' as const), { minLength: 1, maxLength: 7 }),
  names: fc.array(shortHostile, { minLength: 1, maxLength: 7 }),
  stretch: fc.integer({ min: 4096, max: 10_000 }),
  salt: fc.nat({ max: 0xffff }),
});

describe('parseAlert: a thousand entities and more', () => {
  it('accepts them, finds every identity, and keeps the rejected list bounded', { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(manyEntities, fc.constantFrom('incident', 'alert', 'alert-text'), ({ count, kinds, names, stretch, salt }, shape) => {
        const flat = shape !== 'incident';
        const entities = Array.from({ length: count }, (_, i) => {
          const by = kinds[i % kinds.length] ?? 'noise';
          const seed = names[i % names.length] || 'x';
          const name = i % 9 === 0 ? seed.repeat(Math.ceil(stretch / seed.length)).slice(0, stretch) : seed;
          const id = `${salt.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
          return { by, id, name };
        });
        const entityJson = entities.map((e, i) => {
          const fields =
            e.by === 'oid'
              ? { AadUserId: e.id.toUpperCase(), FriendlyName: e.name, Name: `agent-${i}` }
              : e.by === 'app'
                ? { AppId: e.id, AppName: e.name }
                : { Address: `198.51.100.${i % 256}`, FriendlyName: `#${i} ${e.name}` };
          const kind = e.by === 'oid' ? 'Account' : e.by === 'app' ? 'CloudApplication' : 'Ip';
          return flat ? { Type: kind.toLowerCase(), ...fields } : { kind, properties: fields };
        });
        const body = flat ? loadFixture('alert-trigger.entities-array.json') : loadFixture('incident-trigger.camel.json');
        if (flat) {
          body.Entities = shape === 'alert-text' ? JSON.stringify(entityJson) : entityJson;
        } else {
          ((body.object as Json).properties as Json).relatedEntities = entityJson;
        }
        const alert = parseAlert(body);
        const expected = entities.filter((e) => e.by !== 'noise').map((e) => `${e.by}:${e.id}`);
        expect(alert.targets.map(targetKey)).toEqual(expected);
        // Every noise entity differs (its name carries its index): the first are listed, the rest counted.
        const noise = entities.filter((e) => e.by === 'noise').length;
        expect(alert.rejected).toHaveLength(Math.min(noise, MAX_REJECTED_LISTED));
        expect(alert.rejected.length + (alert.rejectedOmitted ?? 0)).toBe(noise);
        expectBounded(alert);
      }),
      { numRuns: 20 },
    );
  });
});
