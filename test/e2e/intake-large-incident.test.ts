import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { generateAgents } from '../../dev/simulator/generate-agents';
import { pageText } from '../helpers/approval-form';
import { browse, signInAs } from '../helpers/approval-http';
import { caseBlobs } from '../helpers/case-blobs';
import { graphCalls, seedIncident } from '../helpers/seed-incident';
import { settled, type CaseJson } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

/** Agents among the entities: past one 100-row transaction, so the case is recorded in several. */
const AGENTS = 200;
/** Entities no Entra identity stands behind (addresses, hosts, URLs, file hashes): rejected, and recorded as such. */
const OTHERS = 800;

/** The `i`th entity of a kind the responders do not act on, as Sentinel lists it. */
function otherEntity(i: number): Record<string, unknown> {
  switch (i % 4) {
    case 0:
      return { kind: 'Ip', properties: { address: `198.51.${(i >> 8) & 255}.${i & 255}`, friendlyName: `198.51.${(i >> 8) & 255}.${i & 255}` } };
    case 1:
      return { kind: 'Host', properties: { hostName: `build-${i}`, dnsDomain: 'contoso.example', friendlyName: `build-${i}` } };
    case 2:
      return { kind: 'Url', properties: { url: `https://exfil-${i}.example/upload`, friendlyName: `https://exfil-${i}.example/upload` } };
    default:
      return { kind: 'FileHash', properties: { algorithm: 'SHA256', hashValue: i.toString(16).padStart(64, '0'), friendlyName: i.toString(16) } };
  }
}

/**
 * Sentinel incidents can name thousands of entities (a storm, a compromised blueprint's fleet). Issue 14: one with
 * ~250 could not be recorded (the whole case was one Table property) and the intake answered 500 on every retry.
 */
describe('an incident naming a thousand entities, end to end through the local host', () => {
  // The blast-radius limit is not what this file tests: it lets the whole fleet through.
  const stack = useStack({ env: { BLAST_RADIUS_PER_HOUR: '5000' } });
  /** The large case, recorded by the first test and updated by the second. */
  let caseId = '';

  /**
   * Reads the case every second (as an operator would, not at the 20 Hz of waitForCase) until it settled with `n`
   * targets, none of them pending.
   */
  async function settledLarge(id: string, n: number, timeoutMs: number): Promise<CaseJson> {
    const deadline = Date.now() + timeoutMs;
    let last: CaseJson | undefined;
    while (Date.now() < deadline) {
      const res = await stack.get(`/api/cases/${id}`);
      last = res.body as unknown as CaseJson;
      if (res.status === 200 && settled(last) && last.targets.length === n && last.targets.every((t) => t.status !== 'pending')) {
        return last;
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
    throw new Error(`case ${id} did not settle: ${last?.status}, ${last?.targets.filter((t) => t.status === 'pending').length} pending\n${stack.host.output().slice(-3000)}`);
  }

  it('records every entity, contains every agent once, and the case reads back as JSON and as a page', { timeout: 150_000 }, async () => {
    const { ids } = generateAgents(stack.sim.state, { agents: AGENTS });
    expect(ids).toHaveLength(AGENTS);
    const incident = seedIncident(
      stack.sim,
      1,
      ids.map((id, i) => ({ id, name: `Generated Agent ${i + 1}` })),
    );
    const body = incident.trigger() as { object: { properties: { relatedEntities: unknown[] } } };
    for (let i = 0; i < OTHERS; i++) {
      body.object.properties.relatedEntities.push(otherEntity(i));
    }
    expect(body.object.properties.relatedEntities).toHaveLength(AGENTS + OTHERS);

    const res = await stack.post('/api/alerts', body);
    expect(res.status).toBe(202);
    caseId = String(res.body['caseId']);
    // A retry of the same post (a Logic App retry) finds the recorded case and adds nothing.
    expect(await stack.post('/api/alerts', body)).toMatchObject({ status: 200, body: { caseId, added: 0 } });

    const c = await settledLarge(caseId, AGENTS, 120_000);
    expect(c.status).toBe('done');
    expect(new Set(c.targets.map((t) => t.objectId))).toEqual(new Set(ids));
    const notContained = c.targets.filter((t) => t.status !== 'contained');
    expect(notContained.map((t) => `${t.objectId}: ${t.status} ${t.reason ?? ''}`)).toEqual([]);
    expect(c.targets.every((t) => t.steps.find((s) => s.action === 'disable')?.state === 'done')).toBe(true);
    // The other entities are recorded as rejected, each with its reason (the first ones inline, all of them beside the body).
    expect(c.rejectedEntities.length).toBeGreaterThan(0);
    expect(c.rejectedEntities.every((e) => ['ip', 'host', 'url', 'filehash'].includes(e.kind.toLowerCase()) && e.reason.length > 0)).toBe(true);
    // Beside the case: the posted body, byte for byte (forensics), and the longer rejected-entity list.
    const blobs = await caseBlobs(stack, caseId);
    const bodies = [...blobs].filter(([name]) => name.startsWith(`${caseId}/body-`));
    expect(bodies.map(([, text]) => text)).toEqual([JSON.stringify(body)]);
    const rejected = [...blobs].filter(([name]) => name.startsWith(`${caseId}/rejected-`)).map(([, text]) => JSON.parse(text) as unknown[]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.length).toBeGreaterThan(c.rejectedEntities.length);

    // In the tenant: every agent disabled, each by exactly one successful PATCH; one resolve call (getByIds takes 1,000 ids).
    expect(ids.filter((id) => stack.sim.state.get(id)?.accountEnabled !== false)).toEqual([]);
    const patches = graphCalls(stack.sim, (x) => x.method === 'PATCH' && x.status < 300);
    const perAgent = new Map<string, number>();
    for (const p of patches) {
      const id = ids.find((candidate) => p.path.includes(candidate));
      if (id) {
        perAgent.set(id, (perAgent.get(id) ?? 0) + 1);
      }
    }
    expect(perAgent.size).toBe(AGENTS);
    expect([...perAgent.values()].every((n) => n === 1)).toBe(true);
    // Confirmations are batched: far fewer Identity Protection calls than agents.
    const confirms = graphCalls(stack.sim, (x) => x.path.includes('riskyAgents/confirmCompromised') && x.status < 300);
    expect(confirms.length).toBeLessThan(AGENTS / 10);
    expect(new Set(confirms.flatMap((x) => (x.body as { agentIds: string[] }).agentIds))).toEqual(new Set(ids));

    // One ticket for the case, one comment on the incident.
    expect(stack.sim.state.tickets.servicenow.filter((t) => t.fields['correlation_id'] === `agent-responders:${caseId}`)).toHaveLength(1);
    expect(stack.sim.state.allComments().filter((x) => x.incidentId.toLowerCase() === incident.armId.toLowerCase())).toHaveLength(1);

    // The case page: a signed-in approver reads it, with every agent on it.
    const page = await browse(stack.url, `/api/console/cases/${caseId}`, { cookie: await signInAs(stack.url, DEMO.approvers[0]) });
    expect(page.status).toBe(200);
    const text = pageText(page.html);
    expect(text).toContain('Generated Agent 1');
    expect(text).toContain(`Generated Agent ${AGENTS}`);
  });

  it('accepts an update of the large incident naming one more agent, and contains only that one', { timeout: 60_000 }, async () => {
    const before = (await stack.get(`/api/cases/${caseId}`)).body as unknown as CaseJson;
    const ids = before.targets.map((t) => t.objectId ?? '');
    const extra = DEMO.agents.orphan;
    const incident = seedIncident(stack.sim, 1, [...ids.map((id, i) => ({ id, name: `Generated Agent ${i + 1}` })), { id: extra, name: 'Abandoned Research Agent' }]);
    const sinceSeq = stack.sim.calls.at(-1)?.seq ?? 0;
    const res = await stack.post('/api/alerts', incident.trigger('Update'));
    expect(res).toMatchObject({ status: 200, body: { caseId: before.caseId, added: 1 } });
    const c = await settledLarge(before.caseId, AGENTS + 1, 50_000);
    expect(c.targets.every((t) => t.status === 'contained')).toBe(true);
    expect(c.status).toBe('done');
    expect(stack.sim.state.get(extra)?.accountEnabled).toBe(false);
    const writes = graphCalls(stack.sim, (x) => x.method === 'PATCH', sinceSeq);
    expect(writes.map((x) => x.path)).toEqual([`/v1.0/servicePrincipals/${extra}/microsoft.graph.agentIdentity`]);
  });
});
