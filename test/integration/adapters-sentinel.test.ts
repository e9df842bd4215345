import { DefaultAzureCredential } from '@azure/identity';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO, type Simulator } from '../../dev/simulator/start-simulator';
import { defaultRetryPolicy } from '../../shared/net/retry-policy';
import { parseIncidentArmId } from '../../shared/sentinel/incident-arm-id';
import { createSentinel, type Sentinel } from '../../shared/sentinel/sentinel-client';
import { useSimulator } from '../helpers/use-simulator';

/**
 * Sentinel over ARM when answers are lost: the comment is a PUT under the caller's comment id, so a retry after a
 * dropped or withheld answer updates the same comment instead of adding one; reads retry every transient failure.
 */
describe('Sentinel calls that succeed and then lose their answer', () => {
  const fixture = useSimulator({ identity: true });
  let sim: Simulator;
  let sentinel: Sentinel;
  const incident = parseIncidentArmId(DEMO.incident.armId)!;
  const comments = () => sim.state.incidents.get(DEMO.incident.armId.toLowerCase())?.comments;

  beforeAll(() => {
    sim = fixture.sim;
    sentinel = createSentinel({
      credential: new DefaultAzureCredential(),
      endpoint: sim.url,
      http: { retry: { ...defaultRetryPolicy, attemptTimeoutMs: 400, budgetMs: 3_000 }, retryHooks: { sleep: () => Promise.resolve() } },
    });
  });

  it('keeps one comment when the PUT answer is dropped after commit and the PUT is retried', async () => {
    sim.addFault({ method: 'PUT', path: '/comments/', drop: true, afterCommit: true, times: 1 });
    await sentinel.putComment(incident, 'c0ffee00-0000-4000-8000-000000000001', 'Agent contained.');
    expect([...(comments()?.values() ?? [])].map((c) => [c.name, c.properties.message])).toEqual([['c0ffee00-0000-4000-8000-000000000001', 'Agent contained.']]);
    expect(sim.calls.filter((c) => c.method === 'PUT').map((c) => [c.status, c.fault])).toEqual([
      [0, 'drop-after-commit'],
      [200, undefined],
    ]);
  });

  it('keeps one comment when the PUT answer never comes and the attempt times out', async () => {
    sim.addFault({ method: 'PUT', path: '/comments/', hang: true, afterCommit: true, times: 1 });
    await sentinel.putComment(incident, 'c0ffee00-0000-4000-8000-000000000002', 'Agent contained.');
    expect(comments()?.size).toBe(1);
    expect(sim.calls.filter((c) => c.method === 'PUT').map((c) => c.fault)).toEqual(['hang-after-commit', undefined]);
  });

  it('retries an incident read that answered 500 and an entity list whose connection dropped', async () => {
    sim.addFault({ method: 'GET', path: '/incidents/[^/]+$', service: 'arm', status: 500, times: 1 });
    sim.addFault({ method: 'POST', path: '/entities$', service: 'arm', drop: true, times: 1 });
    const state = await sentinel.getIncident(incident);
    expect(state).toMatchObject({ armId: DEMO.incident.armId, status: 'Active' });
    const entities = await sentinel.listEntities(incident);
    expect(entities.map((e) => e.kind)).toEqual(['Account', 'Ip']);
    expect(sim.calls.filter((c) => c.service === 'arm').map((c) => c.status)).toEqual([500, 200, 0, 200]);
  });

  it('fails transient when ARM never answers, and reports a missing incident only when ARM says 404', async () => {
    sim.addFault({ method: 'GET', path: '/incidents/', service: 'arm', hang: true, times: 100 });
    await expect(sentinel.getIncident(incident)).rejects.toMatchObject({ transient: true, upstreamCode: 'Timeout' });
    sim.reset();
    const missing = parseIncidentArmId(DEMO.incident.armId.replace(/[0-9a-f-]{36}$/, '00000000-0000-4000-8000-00000000dead'))!;
    await expect(sentinel.getIncident(missing)).resolves.toBeUndefined();
  });
});
