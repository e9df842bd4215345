import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEMO } from '../../dev/simulator/demo-ids';
import { settled, type CaseJson, type Stack } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

const incidentText = readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8');

/** The demo incident renamed to incident `n` and naming `agentId`, posted as Sentinel would and known to its Sentinel. */
function incidentFor(stack: Stack, n: number, agentId: string): object {
  const name = `${DEMO.incident.name.slice(0, 24)}${n.toString(16).padStart(12, '0')}`;
  const body = JSON.parse(incidentText.split(DEMO.incident.name).join(name).split(DEMO.agents.invoice).join(agentId)) as {
    object: { id: string; name: string; properties: Record<string, unknown> & { relatedEntities: Record<string, unknown>[] } };
  };
  const { relatedEntities, ...properties } = body.object.properties;
  stack.sim.state.putIncident({ id: body.object.id, name, properties, entities: relatedEntities });
  return body;
}

async function generateAgent(stack: Stack): Promise<string> {
  const res = await fetch(`${stack.sim.url}/_sim/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agents: 1 }) });
  return ((await res.json()) as { ids: string[] }).ids[0] as string;
}

const successfulDisables = (stack: Stack, agentId: string): number =>
  stack.sim.calls.filter((c) => c.method === 'PATCH' && c.path.includes(agentId) && c.status >= 200 && c.status < 300).length;

describe('the intake under concurrent deliveries, through the local host', () => {
  const stack = useStack({ env: { BLAST_RADIUS_PER_HOUR: '1000' } });

  it('records one case when the same incident is delivered many times at once, and never answers 5xx', async () => {
    // The race between the first delivery recording the case and the others reading it is narrow: several
    // bursts make a lost race very likely to show, and a correct intake passes them all.
    for (let burst = 0; burst < 8; burst++) {
      const agent = await generateAgent(stack);
      const body = incidentFor(stack, 1 + burst, agent);

      const answers = await Promise.all(Array.from({ length: 24 }, () => stack.post('/api/alerts', body)));

      expect(answers.map((a) => a.status).sort()).toEqual([...Array.from({ length: 23 }, () => 200), 202]);
      const caseIds = new Set(answers.map((a) => String(a.body['caseId'])));
      expect(caseIds.size).toBe(1);
      const c = await stack.waitForCase([...caseIds][0] as string, settled);
      expect(c.status).toBe('done');
      expect(successfulDisables(stack, agent)).toBe(1);
    }
  });

  it('contains an agent once when several incidents naming it arrive at once: one case acts, the others join it', async () => {
    const agent = await generateAgent(stack);
    const bodies = Array.from({ length: 12 }, (_, i) => incidentFor(stack, 100 + i, agent));

    const answers = await Promise.all(bodies.map((b) => stack.post('/api/alerts', b)));

    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 202));
    const cases: CaseJson[] = await Promise.all(answers.map((a) => stack.waitForCase(String(a.body['caseId']), settled)));
    const containing = cases.filter((c) => c.targets.some((t) => t.objectId === agent && t.status === 'contained'));
    expect(containing).toHaveLength(1);
    expect(cases.flatMap((c) => c.targets.filter((t) => t.status === 'joined'))).toHaveLength(11);
    expect(successfulDisables(stack, agent)).toBe(1);
    const tickets = (await (await fetch(`${stack.sim.url}/_sim/tickets`)).json()) as { servicenow: { correlation_id: string }[] };
    expect(tickets.servicenow.filter((t) => t.correlation_id === `agent-responders:${containing[0]?.caseId}`)).toHaveLength(1);
  });
});
