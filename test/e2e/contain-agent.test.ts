import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEMO } from '../../dev/simulator/demo-ids';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

const incident = JSON.parse(readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;

describe('an incident naming an agent identity, end to end through the local host', () => {
  const stack = useStack();

  it('disables the agent, confirms its risk, opens one ticket and comments on the incident', async () => {
    const res = await stack.post('/api/alerts', incident);
    expect(res.status).toBe(202);
    const caseId = String(res.body['caseId']);
    const c = await stack.waitForCase(caseId, settled);
    expect(c.status).toBe('done');
    const agent = c.targets.find((t) => t.objectId === DEMO.agents.invoice);
    expect(agent?.kind).toBe('agentIdentity');
    expect(agent?.status).toBe('contained');
    expect(agent?.steps.map((s) => [s.action, s.state])).toEqual([
      ['disable', 'done'],
      ['confirm-compromised', 'done'],
    ]);
    expect(agent?.timeToAccessCutMs).toBeGreaterThanOrEqual(0);

    const obj = stack.sim.state;
    expect(obj).toBeDefined();
    const agentNow = (await (await fetch(`${stack.sim.url}/_sim/objects/${DEMO.agents.invoice}`)).json()) as { accountEnabled: boolean; riskState: string };
    expect(agentNow.accountEnabled).toBe(false);
    expect(agentNow.riskState).toBe('confirmedCompromised');

    const writes = stack.sim.calls.filter((call) => call.service === 'graph' && call.method !== 'GET').map((call) => `${call.method} ${call.path}`);
    expect(writes).toEqual(
      expect.arrayContaining([
        'POST /v1.0/directoryObjects/getByIds',
        `PATCH /v1.0/servicePrincipals/${DEMO.agents.invoice}/microsoft.graph.agentIdentity`,
        'POST /beta/identityProtection/riskyAgents/confirmCompromised',
      ]),
    );
    const tickets = (await (await fetch(`${stack.sim.url}/_sim/tickets`)).json()) as { servicenow: unknown[] };
    expect(tickets.servicenow).toHaveLength(1);
    const comments = (await (await fetch(`${stack.sim.url}/_sim/comments`)).json()) as unknown[] | { value: unknown[] };
    expect(Array.isArray(comments) ? comments : comments.value).toHaveLength(1);
  });
});
