import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../dev/simulator/start-simulator';
import { startSimulator } from '../../dev/simulator/start-simulator';

describe('simulator bulk generation', () => {
  let sim: Simulator;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 'empty' });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('adds 100,000 agent identities in under 10 s and pages them by filter', async () => {
    const started = Date.now();
    const res = await fetch(`${sim.url}/_sim/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agents: 100_000, expiredFraction: 0.01, expiringFraction: 0.02, orphanFraction: 0.005 }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { created: number; ids: string[] };
    expect(body.created).toBe(100_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as { byType: Record<string, number> };
    expect(state.byType['#microsoft.graph.agentIdentity']).toBe(100_000);

    const tokenRes = await fetch(`${sim.identityEndpoint}?resource=https://graph.microsoft.com&api-version=2019-08-01`, {
      headers: { 'X-IDENTITY-HEADER': sim.identityHeader },
    });
    const token = ((await tokenRes.json()) as { access_token: string }).access_token;
    const expired = await fetch(
      `${sim.url}/v1.0/servicePrincipals/microsoft.graph.agentIdentity?$filter=${encodeURIComponent("tags/any(t:startswith(t,'agent-expires:'))")}&$count=true&$top=5`,
      { headers: { authorization: `Bearer ${token}`, ConsistencyLevel: 'eventual' } },
    );
    const page = (await expired.json()) as { '@odata.count': number; value: unknown[] };
    expect(page['@odata.count']).toBe(1000);
    expect(page.value).toHaveLength(5);
  });
});
