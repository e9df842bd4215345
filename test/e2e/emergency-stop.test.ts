import { describe, expect, it } from 'vitest';
import { settled, type CaseJson, type Stack } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { seedIncident } from '../helpers/seed-incident';
import { isGraphWrite } from '../../shared/control/write-guard';

/** Writes to the tenant or a ticket system the simulator saw, from `since` (epoch ms) on. */
function writesSince(stack: Stack, since: number): string[] {
  return stack.sim.calls
    .filter((c) => c.at >= since)
    .filter((c) =>
      c.service === 'graph'
        ? isGraphWrite({ method: c.method as 'GET', path: c.path.replace(/^\/(v1\.0|beta)/, ''), body: c.body })
        : c.service === 'arm'
          ? c.method === 'PUT'
          : ['servicenow', 'jira', 'webhook'].includes(c.service) && c.method !== 'GET',
    )
    .map((c) => `${c.method} ${c.path}`);
}

async function generateAgents(stack: Stack, n: number): Promise<string[]> {
  const res = await fetch(`${stack.sim.url}/_sim/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agents: n }) });
  return ((await res.json()) as { ids: string[] }).ids;
}

const stop = (stack: Stack, stopped: boolean, reason: string) => stack.post('/api/control/emergency-stop', { stopped, reason });
const caseOf = async (stack: Stack, caseId: string) => (await stack.get(`/api/cases/${caseId}`)).body as unknown as CaseJson;

describe('the emergency stop, while a storm is in flight', () => {
  // Graph answers slowly, so the storm is still running when the stop comes.
  const stack = useStack({ env: { BLAST_RADIUS_PER_HOUR: '1000' }, simulator: { knobs: { latencyMs: 150 } } });

  it('stops every Graph, ARM and ticket write within seconds, says paused, and finishes everything once lifted', async () => {
    const agents = await generateAgents(stack, 30);
    const incidents = agents.map((id, i) => seedIncident(stack.sim, 900 + i, [{ id, name: `Storm agent ${i}` }]));
    const answers = await Promise.all(incidents.map((inc) => stack.post('/api/alerts', inc.trigger())));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const caseIds = answers.map((a) => String(a.body['caseId']));
    await expect.poll(() => agents.filter((id) => stack.sim.state.get(id)?.accountEnabled === false).length, { timeout: 30_000 }).toBeGreaterThan(0);

    const stoppedAt = Date.now();
    const answer = await stop(stack, true, 'rollback drill');
    expect(answer).toMatchObject({ status: 200, body: { stopped: true, reason: 'rollback drill' } });
    expect((await stack.get('/api/health')).body['emergencyStop']).toMatchObject({ stopped: true, reason: 'rollback drill' });

    // The stop is read at least every two seconds by every worker: from then on, nothing is written.
    const quietFrom = stoppedAt + 3_000;
    await new Promise((r) => setTimeout(r, 6_000));
    // Every case reaches paused (or had finished before the stop); on a loaded machine a case may still wait in the
    // queue at first, and pauses when a worker takes it.
    let during: Awaited<ReturnType<typeof caseOf>>[] = [];
    await expect
      .poll(async () => {
        during = await Promise.all(caseIds.map((id) => caseOf(stack, id)));
        return during.every((c) => c.status === 'paused' || settled(c));
      }, { timeout: 30_000 })
      .toBe(true);
    expect(writesSince(stack, quietFrom)).toEqual([]);
    const paused = during.filter((c) => c.status === 'paused');
    expect(paused.length).toBeGreaterThan(0);
    expect(paused[0]?.note).toMatch(/emergency stop \(rollback drill\)/);

    await stop(stack, false, 'drill over');
    const after = await Promise.all(caseIds.map((id) => stack.waitForCase(id, (c) => settled(c), 60_000)));
    expect(after.map((c) => c.status)).toEqual(caseIds.map(() => 'done'));
    for (const id of agents) {
      expect(stack.sim.state.get(id)?.accountEnabled).toBe(false);
      expect(stack.sim.calls.filter((c) => c.method === 'PATCH' && c.path.includes(id) && c.status >= 200 && c.status < 300)).toHaveLength(1);
    }
  });
});

describe('the emergency stop as a setting', () => {
  const stack = useStack({ env: { EMERGENCY_STOP: 'true' } });

  it('accepts and records alerts but writes nothing, saying paused; health says so', async () => {
    const incident = seedIncident(stack.sim, 950, [{ id: (await generateAgents(stack, 1))[0] ?? '', name: 'Agent' }]);
    const since = Date.now();
    const res = await stack.post('/api/alerts', incident.trigger());
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), (x) => x.status === 'paused');
    expect(c.note).toMatch(/EMERGENCY_STOP/);
    expect(writesSince(stack, since)).toEqual([]);
    expect((await stack.get('/api/health')).body['emergencyStop']).toMatchObject({ stopped: true, source: 'setting' });
    // The admin action cannot lift a stop the setting holds.
    await stop(stack, false, 'trying to resume');
    expect((await stack.get('/api/health')).body['emergencyStop']).toMatchObject({ stopped: true, source: 'setting' });
  });
});
