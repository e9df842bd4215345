import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { QueueClient } from '@azure/storage-queue';
import { DEMO } from '../../dev/simulator/demo-ids';
import { problemDetailsSchema } from '../../shared/http/problem-response';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { mintAccessToken } from '../helpers/approval-sign-in';
import { LOCAL_AUTH } from '../../dev/app-env';
import { wellFormed } from '../../shared/alerts/json-value';
import { storedText } from '../../shared/store/case-store';
import { caseBlobs } from '../helpers/case-blobs';
import { seedIncident } from '../helpers/seed-incident';

const incidentText = readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8');
const incident = JSON.parse(incidentText) as Record<string, unknown>;

/** One hostile request: the bytes sent, the content type (absent when undefined) and what it tries. */
interface HostileRequest {
  kind: string;
  contentType: string | undefined;
  body: Uint8Array<ArrayBuffer>;
}

const BODIES = 10_000;
/** Bodies with hostile strings in the fields the intake stores and keys on. */
const HOSTILE_BODIES = 120;
const CONCURRENCY = 16;
/** Fixed, so a failure names a body that can be replayed; change it to explore other bodies. */
const SEED = 20_261_122;

const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);
const json = (value: unknown, kind: string, contentType = 'application/json'): HostileRequest => ({ kind, contentType, body: utf8(JSON.stringify(value)) });

/** The demo incident (a valid body naming a real agent) with the value at `path` replaced. */
function withValue(path: readonly (string | number)[], value: unknown): unknown {
  const copy = structuredClone(incident) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) {
    node = node[key] as Record<string | number, unknown>;
  }
  node[path[path.length - 1] as string | number] = value;
  return copy;
}

/** NaN and ±Infinity are left out: JSON writes them as null, which reads as an absent (valid) field. */
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
const notAString = fc.oneof(fc.integer(), finiteDouble, fc.boolean(), fc.array(fc.jsonValue(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 3 }));
const notAnObject = fc.oneof(fc.integer(), fc.boolean(), fc.string({ maxLength: 20 }), fc.array(fc.jsonValue(), { maxLength: 3 }));
/** `null` reads as absent (Logic Apps write it for empty fields): wrong only where the field is required. */
const missingObject = fc.oneof(notAnObject, fc.constant(null));
const notAList = fc.oneof(fc.integer(), fc.boolean(), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { minKeys: 1, maxKeys: 3 }));
const PROPS = ['object', 'properties'] as const;

/** A valid incident with one field of the wrong type: required objects, strings, the entity list, the number. */
const wrongTypes = fc.oneof(
  fc.tuple(fc.constantFrom<readonly (string | number)[]>(['object'], [...PROPS]), missingObject),
  fc.tuple(fc.constant<readonly (string | number)[]>(['workspaceInfo']), notAnObject),
  fc.tuple(fc.constantFrom<readonly (string | number)[]>(['object', 'id'], [...PROPS, 'title'], [...PROPS, 'status'], ['objectSchemaType'], [...PROPS, 'relatedEntities', 0, 'properties', 'aadUserId']), notAString),
  fc.tuple(fc.constant<readonly (string | number)[]>([...PROPS, 'relatedEntities']), notAList),
  fc.tuple(fc.constant<readonly (string | number)[]>([...PROPS, 'incidentNumber']), fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant('42abc'))),
).map(([path, value]) => json(withValue(path, value), `wrong type at ${path.join('.')}`));

/** Anything JSON at all, top level included: arrays, numbers, objects of random keys. */
const anyJson = fc.jsonValue({ maxDepth: 4 }).map((value) => json(value, 'arbitrary JSON'));

/** Nesting past the parser's limit of 64, alone or where an entity list is expected. */
const deepNesting = fc.tuple(fc.integer({ min: 65, max: 20_000 }), fc.constantFrom('[', '{"a":'), fc.boolean()).map(([depth, open, inside]) => {
  const close = open === '[' ? ']' : '}';
  const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
  const text = inside ? incidentText.replace('"relatedEntities": [', `"relatedEntities": [${deep},`) : deep;
  return { kind: `nested ${depth} deep${inside ? ' inside an incident' : ''}`, contentType: 'application/json', body: utf8(text) };
});

/** Strings past the field limit, and bodies past the 1 MiB body limit. */
const hugeStrings = fc.oneof(
  fc.integer({ min: 10_001, max: 200_000 }).map((n) => json(withValue([...PROPS, 'title'], 'x'.repeat(n)), `title of ${n} characters`)),
  fc.integer({ min: 10_001, max: 100_000 }).map((n) => json(withValue(['object', 'id'], `${DEMO.incident.armId}${'a'.repeat(n)}`), `incident id of ${n} characters`)),
  fc.integer({ min: 1024 * 1024 + 1, max: 2 * 1024 * 1024 }).map((n) => ({ kind: `body of ${n} bytes`, contentType: 'application/json', body: utf8(`{"pad":"${'p'.repeat(n)}"}`) })),
);

/** Prototype-pollution shapes, written as JSON text so `__proto__` is an own key as a parser would see it. */
const protoKeys = fc.constantFrom('__proto__', 'constructor', 'prototype').chain((key) =>
  fc.constantFrom(
    { kind: `${key} holding the whole incident`, text: `{"${key}":${incidentText}}` },
    { kind: `${key} holding the incident object`, text: incidentText.replace('"object": {', `"object": {"${key}": {"id": "${DEMO.incident.armId}"},`).replace(/"id": "\/subscriptions[^"]*incidents\/8f1c2d3e-0000-4000-8000-000000000001",/, '') },
    { kind: `${key} holding direct-request targets`, text: `{"${key}":{"targets":[{"id":"${DEMO.agents.invoice}"}],"reason":"x"}}` },
    { kind: `${key} inside a direct-request target`, text: `{"targets":[{"${key}":{"id":"${DEMO.agents.invoice}"}}],"reason":"pollute"}` },
    { kind: `${key}.polluted on the body`, text: `{"${key}":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}` },
  ).map(({ kind, text }) => ({ kind, contentType: 'application/json', body: utf8(text) })),
);

/** Bytes that are not UTF-8 (stray continuation, overlong, surrogate, truncated), inside or outside strings. */
const invalidUtf8 = fc
  .tuple(fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]), fc.nat())
  .map(([bad, at]) => {
    const bytes = utf8(incidentText);
    const cut = at % bytes.length;
    return { kind: `invalid UTF-8 ${bad.map((b) => b.toString(16)).join(' ')} at byte ${cut}`, contentType: 'application/json', body: Uint8Array.from([...bytes.subarray(0, cut), ...bad, ...bytes.subarray(cut)]) };
  });

/** A valid incident body under a media type that is not JSON, a foreign charset, or none at all. */
const wrongMediaTypes = fc
  .constantFrom(undefined, '', 'text/plain', 'text/json', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/jsonx', 'application/octet-stream', 'json')
  .map((contentType) => ({ kind: `content type ${String(contentType)}`, contentType, body: utf8(incidentText) }));

/** Empty, blank and truncated bodies, and a foreign workspace (a body we must refuse, well-formed as it is). */
const oddBodies = fc.oneof(
  fc.constantFrom('', ' ', '\n\t', 'null', '"alert"', '[]', '{}').map((text) => ({ kind: `body ${JSON.stringify(text)}`, contentType: 'application/json', body: utf8(text) })),
  fc.integer({ min: 1, max: incidentText.trimEnd().length - 1 }).map((n) => ({ kind: `incident truncated at ${n}`, contentType: 'application/json', body: utf8(incidentText.slice(0, n)) })),
  fc.constantFrom(['11111111-2222-3333-4444-555555555555', '99999999-2222-3333-4444-555555555555'], ['soc-rg', 'other-rg'], ['soc-ws', 'other-ws']).map(([ours, theirs]) => ({
    kind: `incident of a foreign workspace (${theirs})`,
    contentType: 'application/json',
    body: utf8(incidentText.split(ours as string).join(theirs as string)),
  })),
);

const hostileRequest: fc.Arbitrary<HostileRequest> = fc.oneof(
  { arbitrary: wrongTypes, weight: 30 },
  { arbitrary: anyJson, weight: 20 },
  { arbitrary: deepNesting, weight: 8 },
  { arbitrary: hugeStrings, weight: 1 },
  { arbitrary: protoKeys, weight: 10 },
  { arbitrary: invalidUtf8, weight: 12 },
  { arbitrary: wrongMediaTypes, weight: 10 },
  { arbitrary: oddBodies, weight: 9 },
);

const INCIDENT_NAME = utf8(DEMO.incident.name);

/**
 * Gives the `n`th body its own incident (same-length name, so byte offsets stay valid): otherwise every
 * body after the first would be a repeat of one incident, and the deduplication would answer for the parser.
 */
function ownIncident(body: Uint8Array<ArrayBuffer>, n: number): Uint8Array<ArrayBuffer> {
  const name = utf8(`${DEMO.incident.name.slice(0, 24)}${n.toString(16).padStart(12, '0')}`);
  const out = Uint8Array.from(body);
  for (let i = out.indexOf(INCIDENT_NAME[0] as number); i >= 0 && i <= out.length - name.length; i = out.indexOf(INCIDENT_NAME[0] as number, i + 1)) {
    if (INCIDENT_NAME.every((b, k) => out[i + k] === b)) {
      out.set(name, i);
    }
  }
  return out;
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function inPool<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let i = next++; i < items.length; i = next++) {
        await task(items[i] as T, i);
      }
    }),
  );
}

/** Bytes that break storage keys, URLs, KQL and logs: NUL, lone surrogates, key and path characters, controls. */
const HOSTILE_PIECES = ['\u0000', '\ud800', '\udfff', '\udc00x\ud83d', '/', '\\', '#', '?', '%2F', '..', '\u0001', '\t', '\n', '\u001f', '\u007f', '\u0085', '\u2028', "'", '"', '<', '&', '\ufeff', '\uffff', '😀', ' '];

/** Hostile text: short mixes of the pieces, random UTF-16 code units (surrogates included), and long runs. */
const hostileText = fc.oneof(
  { arbitrary: fc.array(fc.constantFrom(...HOSTILE_PIECES), { minLength: 1, maxLength: 12 }).map((parts) => parts.join('')), weight: 6 },
  { arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 }), weight: 3 },
  { arbitrary: fc.constantFrom(...HOSTILE_PIECES).map((p) => p.repeat(Math.ceil(4_096 / p.length)).slice(0, 4_096)), weight: 2 },
  { arbitrary: fc.constant('x'.repeat(100_000)), weight: 1 },
);

/**
 * Where a hostile string goes: the alert id, the title, an account's name or UPN suffix, an incident's title or
 * entity name, thousands of entities, a direct request's reason or the UPN it names.
 */
type HostileField = 'SystemAlertId' | 'AlertDisplayName' | 'accountName' | 'upnSuffix' | 'incidentTitle' | 'entityName' | 'manyEntities' | 'directReason' | 'directUpn';
const hostileBody = fc.record({
  field: fc.constantFrom<HostileField>('SystemAlertId', 'AlertDisplayName', 'accountName', 'upnSuffix', 'incidentTitle', 'entityName', 'manyEntities', 'directReason', 'directUpn'),
  value: hostileText,
});

/** An object id no tenant object has: the case resolves it to nobody, so no approval or write follows. */
const nobody = (n: number) => `dead0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe('POST /api/alerts under malformed and hostile bodies, through the local host', () => {
  const stack = useStack();
  let playbook: Record<string, string>;
  beforeAll(async () => {
    // The bodies come from the allow-listed playbook, so every refusal below is the body's doing.
    playbook = { authorization: `Bearer ${await mintAccessToken(stack.sim.url, LOCAL_AUTH.playbook.objectId)}` };
  });

  it(`answers ${BODIES} generated bodies with 4xx problems, acts on none of them, and stays healthy`, { timeout: 300_000 }, async () => {
    const requests = fc.sample(hostileRequest, { numRuns: BODIES, seed: SEED });
    const wrong: string[] = [];
    const statuses = new Set<number>();
    await inPool(requests, CONCURRENCY, async (req, n) => {
      const headers: Record<string, string> = req.contentType === undefined ? { ...playbook } : { ...playbook, 'content-type': req.contentType };
      const res = await fetch(`${stack.url}/api/alerts`, { method: 'POST', headers, body: ownIncident(req.body, n + 1) });
      const text = await res.text();
      statuses.add(res.status);
      const problem = problemDetailsSchema.safeParse(safeJson(text));
      const isProblem = (res.headers.get('content-type') ?? '').startsWith('application/problem+json') && problem.success && problem.data.status === res.status;
      if (res.status < 400 || res.status >= 500 || !isProblem) {
        wrong.push(`${req.kind}: ${res.status} ${res.headers.get('content-type') ?? ''} ${text.slice(0, 200)}`);
      }
    });
    expect(wrong.slice(0, 5), `${wrong.length} of ${BODIES} bodies answered wrongly (seed ${SEED})`).toEqual([]);
    // Every refusal path was reached: bad JSON or fields, foreign workspace, too large, wrong media type, nobody named.
    expect([...statuses].sort()).toEqual([400, 403, 413, 415, 422]);

    // Garbage reached neither Graph, Sentinel nor the ticket system, and left nothing for the responder.
    expect(stack.sim.calls.filter((call) => call.service !== 'msi').map((call) => `${call.service} ${call.method} ${call.path}`)).toEqual([]);
    const queue = new QueueClient(stack.env['AzureWebJobsStorage'] as string, 'containment');
    expect((await queue.exists()) ? (await queue.getProperties()).approximateMessagesCount : 0).toBe(0);

    const health = await stack.get('/api/health');
    expect(health.status).toBe(200);
    expect(health.body['status']).toBe('ok');
    const res = await stack.post('/api/alerts', incident);
    expect(res.status).toBe(202);
    const after = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(after.status).toBe('done');
  });

  /**
   * Builds the `n`th hostile body: an alert trigger or an incident trigger (known to Sentinel, so it verifies)
   * with `value` in one field. Returns the body and the title the case must record.
   */
  function buildHostile(n: number, field: HostileField, value: string): { body: Record<string, unknown>; title: string } {
    if (field === 'directReason' || field === 'directUpn') {
      const reason = field === 'directReason' ? value : `Hostile request ${n}`;
      const body = { targets: [field === 'directUpn' ? { upn: value } : { id: nobody(n) }], reason };
      return { body, title: reason.trim() };
    }
    if (field === 'incidentTitle' || field === 'entityName') {
      const named = [{ id: nobody(n), name: field === 'entityName' ? value : `Agent ${n}` }];
      const title = field === 'incidentTitle' ? value : `Hostile entity name ${n}`;
      const body = seedIncident(stack.sim, 1_000 + n, named, { title }).trigger() as { object: { properties: { incidentNumber: number } } };
      // A blank title is shown as the incident's number, as Sentinel's own list does.
      return { body, title: title.trim() === '' ? `Sentinel incident ${body.object.properties.incidentNumber}` : title };
    }
    const account: Record<string, unknown> = { $id: '2', Type: 'account', Name: `agent-${n}`, AadUserId: nobody(n) };
    if (field === 'accountName' || field === 'upnSuffix') {
      delete account['AadUserId'];
      account['Name'] = field === 'accountName' ? value : `agent-${n}`;
      account['UPNSuffix'] = field === 'upnSuffix' ? value : 'contoso.example';
    }
    const entities: Record<string, unknown>[] = [account];
    if (field === 'manyEntities') {
      // Thousands of accounts with hostile names and no identity behind them (the body stays under the 1 MiB limit).
      for (let i = 0; i < 3_000; i++) {
        entities.push({ $id: String(i + 3), Type: 'account', Name: `${value.slice(0, 16)}${i}`, NTDomain: value.slice(0, 8) });
      }
    }
    const title = field === 'AlertDisplayName' ? value : `Hostile alert ${n}`;
    const alertId = field === 'SystemAlertId' ? `${n}-${value}` : `eeeeeeee-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
    const body = { SystemAlertId: alertId, AlertDisplayName: title, Severity: 'High', WorkspaceSubscriptionId: DEMO.workspace.subscriptionId, WorkspaceResourceGroup: DEMO.workspace.resourceGroup, Entities: entities };
    return { body, title: title.trim() === '' ? `Sentinel alert ${alertId}` : title };
  }

  it('stores hostile ids, names and titles exactly or refuses them naming the field: never a 5xx, nothing half-written', { timeout: 240_000 }, async () => {
    // Always tried, whatever the sample: a line separator in a title or name (issue 14: a 500 on every retry),
    // key and path characters in an alert id, a NUL and a lone surrogate where they are refused or repaired.
    const fixed: { field: HostileField; value: string }[] = [
      { field: 'AlertDisplayName', value: 'Token theft\u2028by agent' },
      { field: 'incidentTitle', value: '\u2029' },
      { field: 'entityName', value: 'agent\u2028\u2029' },
      { field: 'accountName', value: 'agent\u2028x' },
      { field: 'SystemAlertId', value: '/\\#?%2F..' },
      { field: 'SystemAlertId', value: 'a\u0000b' },
      { field: 'SystemAlertId', value: '\ud800' },
      { field: 'SystemAlertId', value: '#'.repeat(4_096) },
      { field: 'AlertDisplayName', value: '\udfff'.repeat(4_096) },
      { field: 'AlertDisplayName', value: 't'.repeat(100_000) },
      { field: 'directUpn', value: 'a/../../servicePrincipals/x@contoso.example' },
      { field: 'directUpn', value: 'agent#?\u2028@contoso.example' },
      { field: 'directReason', value: 'contain\u2028now\u0000' },
    ];
    const samples = [...fixed, ...fc.sample(hostileBody, { numRuns: HOSTILE_BODIES - fixed.length, seed: SEED })];
    const wrong: string[] = [];
    const accepted: { caseId: string; what: string }[] = [];
    await inPool(samples, 8, async ({ field, value }, n) => {
      const { body, title } = buildHostile(n + 1, field, value);
      const text = JSON.stringify(body);
      const what = `${field} = ${JSON.stringify(value.slice(0, 40))}${value.length > 40 ? `… (${value.length} chars)` : ''}`;
      const res = await fetch(`${stack.url}/api/alerts`, { method: 'POST', headers: { ...playbook, 'content-type': 'application/json' }, body: text });
      const answer = safeJson(await res.text()) as Record<string, unknown> | undefined;
      if (res.status >= 400 && res.status !== 422) {
        const problem = problemDetailsSchema.safeParse(answer);
        const named = problem.success && (problem.data.errors ?? []).some((e) => e.field.length > 0);
        if (res.status >= 500 || !(res.headers.get('content-type') ?? '').startsWith('application/problem+json') || !named) {
          wrong.push(`${what}: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
        }
        return;
      }
      const caseId = String(answer?.['caseId']);
      accepted.push({ caseId, what });
      // Recorded exactly: the title as shown (well-formed, cut to what a row holds), the body byte for byte.
      const c = await stack.get(`/api/cases/${caseId}`);
      if (c.status !== 200 || c.body['title'] !== storedText(wellFormed(title))) {
        wrong.push(`${what}: case ${c.status}, title ${JSON.stringify(String(c.body['title']).slice(0, 60))}`);
      }
      const bodies = [...(await caseBlobs(stack, caseId)).entries()].filter(([name]) => name.includes('/body-')).map(([, stored]) => stored);
      if (!bodies.includes(text)) {
        wrong.push(`${what}: posted body not stored as posted`);
      }
    });
    expect(wrong.slice(0, 8), `${wrong.length} of ${HOSTILE_BODIES} hostile bodies answered wrongly (seed ${SEED})`).toEqual([]);
    expect(accepted.length).toBeGreaterThan(HOSTILE_BODIES / 4);

    // Each accepted case ends somewhere a person can see, not stuck, failed or poisoned.
    const ends = await Promise.all(
      accepted.map(async ({ caseId, what }) => {
        const status = await stack.waitForCase(caseId, settled, 60_000).then(
          (c) => c.status,
          () => 'not settled',
        );
        return { what, status };
      }),
    );
    expect(ends.filter(({ status }) => status === 'not settled' || status === 'failed').map(({ what, status }) => `${what}: ${status}`)).toEqual([]);
    // Nothing hostile became a Graph path: names are one encoded path segment each (no raw `.`/`..` segment, NUL or
    // fragment), and Graph never failed on what it was sent.
    const traversal = (path: string) => path.split('/').some((segment) => segment === '..' || segment === '.') || /%00|#/.test(path);
    const odd = stack.sim.calls.filter((call) => call.service === 'graph' && (call.status >= 500 || traversal(call.path))).map((call) => `${call.method} ${call.path} ${call.status}`);
    expect(odd).toEqual([]);
    expect((await stack.get('/api/health')).body['status']).toBe('ok');
  });
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
