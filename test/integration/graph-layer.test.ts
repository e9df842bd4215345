import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO, REQUIRED_PERMISSIONS, startSimulator, type CallRecord, type Simulator } from '../../dev/simulator/start-simulator';
import { UpstreamError } from '../../shared/errors';
import { everyFeaturePermissions } from '../helpers/planned-permissions';
import { batch, type BatchItem } from '../../shared/graph/batch';
import { getByIds } from '../../shared/graph/directory-objects';
import { createGraph, seg, type Graph } from '../../shared/graph/graph-client';
import { setRisk } from '../../shared/graph/identity-protection';
import { listAll, listPages } from '../../shared/graph/list-pages';
import { setAccountEnabled, typedPath } from '../../shared/graph/service-principals';

/**
 * The Graph layer over real HTTP against the tenant simulator, with the production credential path:
 * DefaultAzureCredential → App Service managed identity (IDENTITY_ENDPOINT / IDENTITY_HEADER) → bearer token.
 */
describe('Graph layer against the tenant simulator', () => {
  let sim: Simulator;
  let credential: DefaultAzureCredential;
  const saved = { endpoint: process.env['IDENTITY_ENDPOINT'], header: process.env['IDENTITY_HEADER'] };

  /** A Graph client whose retry waits are recorded instead of slept. */
  function graphClient(): { graph: Graph; waits: number[] } {
    const waits: number[] = [];
    const graph = createGraph({
      credential,
      endpoint: sim.url,
      retryHooks: { sleep: (ms) => (waits.push(ms), Promise.resolve()), random: () => 0.5 },
    });
    return { graph, waits };
  }

  const graphCalls = (match: (c: CallRecord) => boolean): CallRecord[] => sim.calls.filter((c) => c.service === 'graph' && match(c));
  const agentDisable = typedPath({ id: DEMO.agents.invoice, kind: 'agentIdentity' });
  const isAgentPatch = (c: CallRecord) => c.method === 'PATCH' && c.path === `/v1.0${agentDisable}`;

  async function rejection(p: Promise<unknown>): Promise<UpstreamError> {
    const err: unknown = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UpstreamError);
    return err as UpstreamError;
  }

  beforeAll(async () => {
    sim = await startSimulator();
    process.env['IDENTITY_ENDPOINT'] = sim.identityEndpoint;
    process.env['IDENTITY_HEADER'] = sim.identityHeader;
    credential = new DefaultAzureCredential();
  });
  afterAll(async () => {
    for (const [name, value] of [
      ['IDENTITY_ENDPOINT', saved.endpoint],
      ['IDENTITY_HEADER', saved.header],
    ] as const) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
    await sim?.stop();
  });
  beforeEach(() => {
    sim.reset();
    sim.setKnobs({ grantedPermissions: everyFeaturePermissions(), identityProtectionThrottle: false, latencyMs: 0 });
  });

  it("calls Graph with a token from the managed identity endpoint, for Graph's scope", async () => {
    const { graph } = graphClient();
    const { objects } = await getByIds(graph, [DEMO.agents.invoice]);
    expect(objects.map((o) => o.kind)).toEqual(['agentIdentity']);
    const mi = sim.calls.filter((c) => c.service === 'msi');
    expect(mi.length).toBeGreaterThanOrEqual(1);
    expect(mi[0]?.status).toBe(200);
    expect(new URLSearchParams(mi[0]?.query).get('resource')).toMatch(/^https:\/\/graph\.microsoft\.com/);
    expect(graphCalls(() => true).map((c) => [c.method, c.path, c.status])).toEqual([['POST', '/v1.0/directoryObjects/getByIds', 200]]);
    // The token is cached: a second call does not ask the identity endpoint again.
    await getByIds(graph, [DEMO.classicSp]);
    expect(sim.calls.filter((c) => c.service === 'msi')).toHaveLength(mi.length);
  });

  it('is refused with 401 when a request carries no token', async () => {
    const res = await fetch(`${sim.url}/v1.0/servicePrincipals/${DEMO.agents.invoice}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('InvalidAuthenticationToken');
  });

  it('retries a 429 once after its Retry-After and returns the successful result', async () => {
    const { graph, waits } = graphClient();
    sim.addFault({ method: 'PATCH', path: 'microsoft\\.graph\\.agentIdentity$', status: 429, retryAfter: 1, times: 1 });
    const result = await setAccountEnabled(graph, { id: DEMO.agents.invoice, kind: 'agentIdentity' }, false);
    expect(result.status).toBe(204);
    expect(result.requestId).toBe(graphCalls(isAgentPatch).at(-1)?.requestId);
    expect(waits).toEqual([1_000]);
    expect(graphCalls(isAgentPatch).map((c) => c.status)).toEqual([429, 204]);
    expect(sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(false);
  });

  it('backs off with jitter on a 429 without Retry-After (Identity Protection)', async () => {
    const { graph, waits } = graphClient();
    sim.addFault({ method: 'POST', path: 'riskyAgents/microsoft\\.graph\\.confirmCompromised$|riskyAgents/confirmCompromised$', status: 429, times: 2 });
    await setRisk(graph, 'riskyAgents', 'confirmCompromised', [DEMO.agents.invoice]);
    // Full jitter (random 0.5) under a ceiling that doubles: 250 ms, then 500 ms.
    expect(waits).toEqual([125, 250]);
    expect(graphCalls((c) => c.path.includes('confirmCompromised')).map((c) => c.status)).toEqual([429, 429, 204]);
    expect(sim.state.get(DEMO.agents.invoice)?.riskState).toBe('confirmedCompromised');
  });

  it('retries a 503 and returns the answer of the retry', async () => {
    const { graph, waits } = graphClient();
    sim.addFault({ method: 'POST', path: 'getByIds$', status: 503, times: 1 });
    const { objects, requestIds } = await getByIds(graph, [DEMO.classicSp]);
    expect(objects.map((o) => [o.id, o.kind])).toEqual([[DEMO.classicSp, 'servicePrincipal']]);
    expect(waits).toHaveLength(1);
    const calls = graphCalls((c) => c.path.endsWith('getByIds'));
    expect(calls.map((c) => c.status)).toEqual([503, 200]);
    expect(requestIds).toEqual([calls[1]?.requestId]);
  });

  it("translates a 400 with Graph's code and request id, without retrying it", async () => {
    const { graph, waits } = graphClient();
    const err = await rejection(graph.call({ method: 'PATCH', path: agentDisable, body: { accountEnabled: false, bogus: 1 } }));
    const calls = graphCalls(isAgentPatch);
    expect(calls).toHaveLength(1);
    expect(err).toMatchObject({ httpStatus: 400, upstreamCode: 'Request_BadRequest', code: 'Request_BadRequest', transient: false, requestId: calls[0]?.requestId });
    expect(err.message).toContain("Property 'bogus' does not exist");
    expect(waits).toEqual([]);
    expect(sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(true);
  });

  it('fails with 403 naming the permission the identity lacks', async () => {
    const { graph, waits } = graphClient();
    // Less every permission Graph accepts for the disable (AgentIdentity.ReadWrite.All, for sponsors, is one too).
    const granted = [...new Set(Object.values(REQUIRED_PERMISSIONS))].filter((p) => p !== 'AgentIdentity.EnableDisable.All' && p !== 'AgentIdentity.ReadWrite.All');
    sim.setKnobs({ grantedPermissions: granted });
    const err = await rejection(setAccountEnabled(graph, { id: DEMO.agents.invoice, kind: 'agentIdentity' }, false));
    expect(err).toMatchObject({ httpStatus: 403, upstreamCode: 'Authorization_RequestDenied', transient: false });
    expect(err.message).toContain('AgentIdentity.EnableDisable.All');
    expect(err.requestId).toBe(graphCalls(isAgentPatch)[0]?.requestId);
    expect(graphCalls(isAgentPatch)).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('pages through 250 generated agents by following @odata.nextLink', async () => {
    const { graph } = graphClient();
    const generated = (await (await fetch(`${sim.url}/_sim/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agents: 250 }) })).json()) as {
      ids: string[];
    };
    expect(generated.ids).toHaveLength(250);
    const call = { path: '/servicePrincipals/microsoft.graph.agentIdentity', query: { $select: 'id,displayName', $top: '100' } };
    const { items, pages } = await listAll<{ id: string }>(graph, call);
    const ids = new Set(items.map((a) => a.id));
    expect(ids.size).toBe(items.length);
    for (const id of [...generated.ids, ...Object.values(DEMO.agents)]) {
      expect(ids.has(id)).toBe(true);
    }
    expect(items).toHaveLength(254);
    expect(pages).toBe(3);
    const gets = graphCalls((c) => c.method === 'GET' && c.path === '/v1.0/servicePrincipals/microsoft.graph.agentIdentity');
    expect(gets.map((c) => c.status)).toEqual([200, 200, 200]);
    expect(gets.slice(1).every((c) => new URLSearchParams(c.query).has('$skiptoken'))).toBe(true);

    const sizes: number[] = [];
    for await (const page of listPages<{ id: string }>(graph, call)) {
      sizes.push(page.items.length);
    }
    expect(sizes).toEqual([100, 100, 54]);
    expect((await listAll(graph, call, { maxItems: 150 })).items).toHaveLength(150);
  });

  it('refuses to follow a nextLink to another host', async () => {
    const { graph } = graphClient();
    const err = await rejection(graph.next('https://graph.evil.example/v1.0/servicePrincipals?$skiptoken=x'));
    expect(err.upstreamCode).toBe('UnexpectedNextLink');
    expect(sim.calls.filter((c) => c.service === 'graph')).toEqual([]);
  });

  it('sends 45 requests through $batch in three calls and answers each item with its own status', async () => {
    const { graph } = graphClient();
    const known = (await (await fetch(`${sim.url}/_sim/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agents: 40 }) })).json()) as { ids: string[] };
    const unknown = Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-00000000e${String(i).padStart(3, '0')}`);
    const items: BatchItem[] = [...known.ids, ...unknown].map((id, i) => ({ id: String(i), method: 'GET', url: `/servicePrincipals/${seg(id)}?$select=id,accountEnabled` }));
    const results = await batch(graph, items);
    expect(results.size).toBe(45);
    known.ids.forEach((id, i) => {
      expect(results.get(String(i))).toMatchObject({ status: 200, body: { id, accountEnabled: true } });
    });
    unknown.forEach((_, i) => {
      expect(results.get(String(40 + i))?.status).toBe(404);
    });
    const outer = graphCalls((c) => c.path === '/v1.0/$batch');
    expect(outer.map((c) => c.status)).toEqual([200, 200, 200]);
    expect(graphCalls((c) => c.batchId !== undefined)).toHaveLength(45);
  });

  it('sends a throttled batch item again and keeps the answers of the others', async () => {
    const { graph } = graphClient();
    sim.addFault({ method: 'GET', path: `/servicePrincipals/${DEMO.classicSp}$`, status: 429, times: 1 });
    const items: BatchItem[] = [DEMO.agents.invoice, DEMO.classicSp, DEMO.plainSp].map((id) => ({ id, method: 'GET', url: `/servicePrincipals/${id}?$select=id` }));
    const results = await batch(graph, items);
    expect([...results.values()].map((r) => [r.id, r.status])).toEqual([
      [DEMO.agents.invoice, 200],
      [DEMO.plainSp, 200],
      [DEMO.classicSp, 200],
    ]);
    expect(graphCalls((c) => c.path === '/v1.0/$batch')).toHaveLength(2);
    expect(graphCalls((c) => c.batchId !== undefined).map((c) => c.status)).toEqual([200, 429, 200, 200]);
  });

  it('resolves every identity kind in one getByIds call and leaves unknown ids out', async () => {
    const { graph } = graphClient();
    const unknown = '00000000-0000-4000-8000-0000000000ee';
    const { objects, requestIds } = await getByIds(graph, [
      DEMO.agents.invoice,
      DEMO.blueprintPrincipal.toUpperCase(),
      DEMO.classicSp,
      DEMO.agentUsers[0],
      DEMO.human,
      DEMO.approverGroup,
      unknown,
      DEMO.agents.invoice,
    ]);
    expect(Object.fromEntries(objects.map((o) => [o.id, o.kind]))).toEqual({
      [DEMO.agents.invoice]: 'agentIdentity',
      [DEMO.blueprintPrincipal]: 'agentBlueprintPrincipal',
      [DEMO.classicSp]: 'servicePrincipal',
      [DEMO.agentUsers[0]]: 'agentUser',
      [DEMO.human]: 'user',
      [DEMO.approverGroup]: 'other',
    });
    expect(objects.find((o) => o.id === DEMO.agents.invoice)).toMatchObject({ appId: DEMO.agentAppIds.invoice, agentIdentityBlueprintId: DEMO.blueprintAppId, accountEnabled: true });
    const calls = graphCalls((c) => c.path.endsWith('getByIds'));
    expect(calls).toHaveLength(1);
    expect((calls[0]?.body as { ids: string[] }).ids).toHaveLength(7);
    expect(requestIds).toEqual([calls[0]?.requestId]);
  });
});
