import type { StorageGate } from '../../dev/storage-proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { acceptAlert, type IntakeResult } from '../../shared/intake/accept-alert';
import { runCase } from '../../shared/plans/run-case';
import { TRANSACTION_MAX } from '../../shared/store/record-table';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { loseFirstAnswer } from '../helpers/lose-answer';
import { seedIncident } from '../helpers/seed-incident';

let app: InProcessApp;

/** More agents than one storage transaction holds: the case is recorded in several. */
const AGENTS = TRANSACTION_MAX + 20;

async function accept(trigger: Record<string, unknown>): Promise<IntakeResult> {
  return acceptAlert(app.deps, parseAlert(trigger), JSON.stringify(trigger), undefined);
}

async function statuses(caseId: string): Promise<string[]> {
  return [...new Set((await app.deps.cases.load(caseId))?.targets.map((t) => t.status))].sort();
}

describe('recording a case of more targets than one transaction holds', () => {
  beforeAll(async () => {
    app = await startInProcessApp({ env: { BLAST_RADIUS_PER_HOUR: '5000' }, throughStorageProxy: true });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('a post that found no case, and whose writes land after another post created and contained it, changes none of its targets', async () => {
    const agents = await generateAgents(app, { agents: AGENTS });
    const trigger = seedIncident(app.sim, 61, agents.map((id) => ({ id }))).trigger();
    let first: IntakeResult | undefined;
    // The delayed post (a playbook retry, a slow instance) asks whether the case exists; storage says no, and the
    // answer reaches it only after the first post recorded the case and its run contained every agent.
    let held = false;
    const gate: StorageGate = (req) => {
      if (held || req.service !== 'table' || req.method !== 'GET' || req.shape !== '/cases(…)') {
        return Promise.resolve('forward');
      }
      held = true;
      return Promise.resolve({
        answerAfter: async () => {
          first = await accept(trigger);
          await runCase(app.deps, app.deps.planners, { caseId: first.caseId, ...(first.hint ? { hint: first.hint } : {}) }, app.inv);
        },
      });
    };
    const delayed = await app.withStorageGate(gate, () => accept(trigger));
    expect(first?.status).toBe(202);
    expect(delayed.caseId).toBe(first?.caseId);
    // The first post's case stands as its run left it: no contained target went back to pending.
    expect(await statuses(delayed.caseId)).toEqual(['contained']);
    expect(delayed.status).toBe(200);
    expect(delayed.added).toBe(0);
  });

  it('a post whose first transaction was stored but its answer lost records the rest of its targets, and is answered as created', async () => {
    const agents = await generateAgents(app, { agents: AGENTS });
    const trigger = seedIncident(app.sim, 62, agents.map((id) => ({ id }))).trigger();
    const { gate, lost } = loseFirstAnswer((req) => req.service === 'table' && req.method === 'POST' && req.shape === '/$batch');
    const accepted = await app.withStorageGate(gate, () => accept(trigger));
    expect(lost()).toBe(1);
    expect(accepted).toMatchObject({ status: 202, enqueue: true, added: AGENTS });
    const stored = await app.deps.cases.load(accepted.caseId);
    expect(stored?.targets).toHaveLength(AGENTS);
    expect(await statuses(accepted.caseId)).toEqual(['pending']);
  });
});
