import { describe, expect, it } from 'vitest';
import { generateAgents } from '../../dev/simulator/generate-agents';
import { graphCalls, seedIncident } from '../helpers/seed-incident';
import { settled, type CaseJson } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

const ROUNDS = 20;
/** Rounds played at the same time (each on its own incident). */
const AT_ONCE = 5;

/**
 * Sentinel fires the incident trigger for the creation of an incident and, moments later, for its update (an
 * alert grouped into it names one more agent); the playbook runs both at once. Issue 14: the update answered
 * `added: 0` and the agent it added was never recorded or disabled.
 */
describe('the create and the update of one incident posted at the same moment, through the local host', () => {
  const stack = useStack({ env: { BLAST_RADIUS_PER_HOUR: '1000' } });

  /** Plays one round on incident `round`; returns what was lost (empty when nothing was). */
  async function playRound(round: number): Promise<string[]> {
    // The create names one agent; the update (what Sentinel holds by then) names it and one more, or two more.
    const all = generateAgents(stack.sim.state, { agents: 2 + (round % 2) }).ids;
    const named = (ids: string[]) => ids.map((id) => ({ id, name: `Round ${round} agent ${id.slice(-4)}` }));
    const create = seedIncident(stack.sim, round, named(all.slice(0, 1))).trigger('Create');
    const update = seedIncident(stack.sim, round, named(all)).trigger('Update');
    // Alternate which one leaves first: the race must be lost by neither order.
    const bodies = round % 2 === 0 ? [create, update] : [update, create];

    const answers = await Promise.all(bodies.map((b) => stack.post('/api/alerts', b)));

    const lost: string[] = [];
    const statuses = answers.map((a) => a.status).sort();
    const caseIds = new Set(answers.map((a) => String(a.body['caseId'])));
    if (statuses.join() !== '200,202' || caseIds.size !== 1) {
      return [`round ${round}: answers ${JSON.stringify(answers.map((a) => [a.status, a.body]))}`];
    }
    const caseId = [...caseIds][0] as string;
    const done = (x: CaseJson) => settled(x) && all.every((id) => x.targets.some((t) => t.objectId === id && t.status !== 'pending'));
    const c = await stack.waitForCase(caseId, done, 30_000).catch(async () => (await stack.get(`/api/cases/${caseId}`)).body as unknown as CaseJson);
    const byId = new Map(c.targets.map((t) => [t.objectId, t.status]));
    for (const id of all) {
      const patches = graphCalls(stack.sim, (x) => x.method === 'PATCH' && x.path.includes(id) && x.status < 300).length;
      if (byId.get(id) !== 'contained' || stack.sim.state.get(id)?.accountEnabled !== false || patches !== 1) {
        lost.push(`round ${round}: ${id} ${byId.get(id) ?? 'not on the case'}, enabled ${String(stack.sim.state.get(id)?.accountEnabled)}, ${patches} disable(s); answers ${JSON.stringify(answers.map((a) => a.body))}`);
      }
    }
    if (c.targets.length !== all.length) {
      lost.push(`round ${round}: ${c.targets.length} targets on the case, ${all.length} named`);
    }
    return lost;
  }

  it(`loses nothing in ${ROUNDS} rounds, ${AT_ONCE} at a time: one case, and every agent the update adds ends disabled, once`, { timeout: 120_000 }, async () => {
    const lost: string[] = [];
    for (let start = 1; start <= ROUNDS; start += AT_ONCE) {
      const rounds = Array.from({ length: Math.min(AT_ONCE, ROUNDS - start + 1) }, (_, i) => start + i);
      lost.push(...(await Promise.all(rounds.map(playRound))).flat());
    }
    expect(lost).toEqual([]);
  });
});
