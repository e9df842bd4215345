import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { targetKey } from '../../../shared/alerts/alert-types';
import { parseAlert } from '../../../shared/alerts/parse-alert';
import { ValidationError } from '../../../shared/errors';
import { INCIDENT_ARM_ID } from './load-fixture';

/** A JSON tree kept as key/value pairs so that keys like `__proto__` become real own properties on parse. */
type Node = { leaf: unknown } | { arr: Node[] } | { obj: Array<[string, Node]> };

const KEYS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  'object', 'Object', 'properties', 'Properties', 'relatedEntities', 'RelatedEntities', 'alerts', 'entities',
  'id', 'title', 'severity', 'status', 'incidentNumber', 'incidentUrl', 'objectSchemaType', 'objectEventType',
  'workspaceInfo', 'SubscriptionId', 'SystemAlertId', 'Entities', 'Entity', 'IncidentArmID', 'targets', 'reason',
  'kind', 'Kind', 'Type', 'type', 'aadUserId', 'AadUserId', 'upnSuffix', 'UPNSuffix', 'Name', 'accountName',
  'appId', 'AppId', '$ref', 'upn',
];

const huge = fc.constantFrom('x'.repeat(10_001), `${'[' .repeat(3)}${'y'.repeat(20_000)}`, 'a'.repeat(100_000));
const leaf = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 2, arbitrary: fc.constantFrom('Account', 'CloudApplication', 'Incident', INCIDENT_ARM_ID, 'High', '', '[]', '[{', 11161) },
  { weight: 2, arbitrary: fc.uuid().map((u) => (u.length % 2 === 0 ? u.toUpperCase() : u)) },
  { weight: 1, arbitrary: huge },
);

const { node } = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf.map((v): Node => ({ leaf: v })),
    fc.array(tie('node'), { maxLength: 4 }).map((arr): Node => ({ arr })),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), tie('node')), { maxLength: 6 })
      .map((obj): Node => ({ obj })),
  ),
}));

function toText(n: Node): string {
  if ('leaf' in n) {
    return JSON.stringify(n.leaf) ?? 'null';
  }
  if ('arr' in n) {
    return `[${n.arr.map(toText).join(',')}]`;
  }
  return `{${n.obj.map(([k, v]) => `${JSON.stringify(k)}:${toText(v)}`).join(',')}}`;
}

/** Wraps a tree in one of the four top-level shapes so the parsers get past detection. */
const shaped = fc
  .tuple(fc.constantFrom('object', 'Object', 'Entity', 'SystemAlertId', 'Entities', 'targets', ''), node, node)
  .map(([top, a, b]) => JSON.parse(top === '' ? toText(a) : `{${JSON.stringify(top)}:${toText(a)},"x":${toText(b)}}`) as unknown);

const deep = fc
  .tuple(fc.integer({ min: 60, max: 3000 }), fc.constantFrom('{"object":', '{"properties":', '[', '{"Entity":', '{"__proto__":'))
  .map(([depth, open]) => {
    const close = open === '[' ? ']' : '}';
    const prefixes = ['{"object":{"properties":{"relatedEntities":[{"kind":"Account","properties":', '{"Entity":', '{"Entities":'];
    const prefix = prefixes[depth % prefixes.length] ?? '';
    const prefixClose = prefix.startsWith('{"object"') ? '}]}}}' : '}';
    return JSON.parse(`${prefix}${open.repeat(depth)}1${close.repeat(depth)}${prefixClose}`) as unknown;
  });

function protoSnapshot(): string {
  return JSON.stringify([Object.getOwnPropertyNames(Object.prototype).sort(), Object.getOwnPropertyNames(Array.prototype).sort()]);
}

describe('parseAlert: property-based', () => {
  it('never throws anything but ValidationError, and never touches Object.prototype', () => {
    const before = protoSnapshot();
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), shaped, deep), (body) => {
        try {
          const alert = parseAlert(body);
          const keys = alert.targets.map(targetKey);
          expect(new Set(keys).size).toBe(keys.length);
          expect(alert.dedupeKey).toMatch(/^(incident|alert|entity|direct):/);
          for (const t of alert.targets) {
            const id = t.by === 'objectId' ? t.objectId : t.by === 'appId' ? t.appId : t.upn;
            expect(id).toBe(id.toLowerCase());
          }
        } catch (err) {
          if (!(err instanceof ValidationError)) {
            throw err;
          }
          expect(err.fields.length).toBeGreaterThan(0);
        }
        expect(protoSnapshot()).toBe(before);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 400 },
    );
  });
});

// --- (b) generated valid incident bodies ------------------------------------------------------------------

type Identity =
  | { kind: 'sp'; objectId: string; name: string }
  | { kind: 'agentUser'; objectId: string; name: string; suffix: string }
  | { kind: 'upnOnly'; name: string; suffix: string }
  | { kind: 'app'; appId: string; name: string };
type Noise = { kind: 'ip' | 'host' | 'defenderApp' | 'emptySuffix' };

const accountName = fc.stringMatching(/^[a-z][a-z0-9-]{0,14}$/);
const suffix = fc.constantFrom('contoso.com', 'Contoso.onmicrosoft.com', 'agents.fabrikam.io');
const guid = fc.uuid().chain((u) => fc.constantFrom(u, u.toUpperCase()));
const identity: fc.Arbitrary<Identity> = fc.oneof(
  fc.record({ kind: fc.constant('sp' as const), objectId: guid, name: accountName }),
  fc.record({ kind: fc.constant('agentUser' as const), objectId: guid, name: accountName, suffix }),
  fc.record({ kind: fc.constant('upnOnly' as const), name: accountName, suffix }),
  fc.record({ kind: fc.constant('app' as const), appId: guid, name: accountName }),
);
const noise: fc.Arbitrary<Noise> = fc.record({ kind: fc.constantFrom('ip' as const, 'host' as const, 'defenderApp' as const, 'emptySuffix' as const) });

/** Picks a casing per key from a pre-drawn list, so one body mixes camelCase, PascalCase and worse. */
function caser(styles: readonly number[]) {
  let i = 0;
  return (key: string): string => {
    const style = styles[i++ % styles.length] ?? 0;
    const pascal = key.charAt(0).toUpperCase() + key.slice(1);
    return [key, pascal, key.toLowerCase(), key.toUpperCase()][style] ?? key;
  };
}

function entityJson(e: Identity | Noise, c: (k: string) => string): Record<string, unknown> {
  const wrap = (kind: string, properties: Record<string, unknown>): Record<string, unknown> => ({
    [c('kind')]: kind,
    [c('properties')]: Object.fromEntries(Object.entries(properties).map(([k, v]) => [c(k), v])),
  });
  switch (e.kind) {
    case 'sp':
      return wrap('Account', { accountName: e.name, aadUserId: e.objectId });
    case 'agentUser':
      return wrap('Account', { accountName: e.name, upnSuffix: e.suffix, aadUserId: e.objectId });
    case 'upnOnly':
      return wrap('account', { accountName: e.name, upnSuffix: e.suffix });
    case 'app':
      return wrap('CloudApplication', { appId: e.appId, appName: e.name });
    case 'ip':
      return wrap('Ip', { address: '198.51.100.1' });
    case 'host':
      return wrap('Host', { hostName: 'vm1' });
    case 'defenderApp':
      return wrap('CloudApplication', { appId: 11161, appName: 'Office 365' });
    case 'emptySuffix':
      return wrap('Account', { accountName: 'svc', upnSuffix: '' });
  }
}

function expectedKey(e: Identity): string {
  switch (e.kind) {
    case 'sp':
    case 'agentUser':
      return `oid:${e.objectId.toLowerCase()}`;
    case 'upnOnly':
      return `upn:${e.name}@${e.suffix.toLowerCase()}`;
    case 'app':
      return `app:${e.appId.toLowerCase()}`;
  }
}

describe('parseAlert: generated incident bodies', () => {
  it('extracts exactly the generated identities, whatever the key casing', () => {
    fc.assert(
      fc.property(
        fc.array(identity, { maxLength: 12 }),
        fc.array(noise, { maxLength: 5 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        (identities, noises, styles, duplicate) => {
          const c = caser(styles);
          const all: Array<Identity | Noise> = [...identities, ...noises, ...(duplicate ? identities.slice(0, 2) : [])];
          const body = {
            [c('objectSchemaType')]: 'Incident',
            [c('objectEventType')]: 'Update',
            [c('object')]: {
              [c('id')]: INCIDENT_ARM_ID,
              [c('properties')]: {
                [c('title')]: 'generated',
                [c('severity')]: 'low',
                [c('relatedEntities')]: all.map((e) => entityJson(e, c)),
              },
            },
          };
          const alert = parseAlert(body);
          expect(alert.targets.map(targetKey)).toEqual([...new Set(identities.map(expectedKey))]);
          // Every noise entity is rejected; identical ones (same kind, name and reason) are recorded once.
          expect(alert.rejected).toHaveLength(new Set(noises.map((n) => n.kind)).size);
          expect(alert).toMatchObject({ source: 'incident', eventType: 'Update', severity: 'Low', title: 'generated' });
          expect(alert.dedupeKey).toBe(`incident:${INCIDENT_ARM_ID.toLowerCase()}`);
        },
      ),
      { numRuns: 150 },
    );
  });
});
