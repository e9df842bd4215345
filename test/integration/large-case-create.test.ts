import type { StorageGate } from '../../dev/storage-proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { acceptAlert, caseIdOf, type IntakeResult } from '../../shared/intake/accept-alert';
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

  it('two posts of the same large incident, one delayed between its first storage answer and its next write: the case is created once and the run that contained it is not undone', async () => {
    const agents = await generateAgents(app, { agents: AGENTS });
    const trigger = seedIncident(app.sim, 61, agents.map((id) => ({ id }))).trigger();
    let other: IntakeResult | undefined;
    // The delayed post (a playbook retry, a slow instance): the answer to its first request about the case reaches it
    // only after the other post recorded the case and its run contained every agent. Had it only asked whether the
    // case existed (storage said no), its writes would land on the contained case.
    let held = false;
    const gate: StorageGate = (req) => {
      if (held || req.service !== 'table' || !(req.shape === '/cases(…)' || req.shape === '/$batch')) {
        return Promise.resolve('forward');
      }
      held = true;
      return Promise.resolve({
        answerAfter: async () => {
          other = await accept(trigger);
          await runCase(app.deps, app.deps.planners, { caseId: other.caseId, ...(other.hint ? { hint: other.hint } : {}) }, app.inv);
        },
      });
    };
    const delayed = await app.withStorageGate(gate, () => accept(trigger));
    expect(held).toBe(true);
    expect(other?.caseId).toBe(delayed.caseId);
    // One of the two created the case; the other is a repeat.
    expect([delayed.status, other?.status].sort()).toEqual([200, 202]);
    // The case stands as its run left it: no contained target went back to pending.
    expect(await app.deps.cases.load(delayed.caseId).then((c) => c?.targets.length)).toBe(AGENTS);
    expect(await statuses(delayed.caseId)).toEqual(['contained']);
  });

  it('a post that lost the answer of its first transaction (the case row and 99 targets) records the rest of its targets, and is answered as created', async () => {
    const agents = await generateAgents(app, { agents: AGENTS });
    const trigger = seedIncident(app.sim, 62, agents.map((id) => ({ id }))).trigger();
    // The case's transaction is the post's first (the audit row is batched after it).
    const { gate, lost } = loseFirstAnswer((req) => req.service === 'table' && req.method === 'POST' && req.shape === '/$batch');
    const accepted = await app.withStorageGate(gate, () => accept(trigger));
    expect(lost()).toBe(1);
    expect(accepted).toMatchObject({ status: 202, enqueue: true, added: AGENTS });
    expect(await app.deps.cases.load(accepted.caseId).then((c) => c?.targets.length)).toBe(AGENTS);
    expect(await statuses(accepted.caseId)).toEqual(['pending']);
  });
  it('a post whose remaining targets could not be written fails, and the playbook retrying it records them and queues the case', async () => {
    const agents = await generateAgents(app, { agents: AGENTS });
    const trigger = seedIncident(app.sim, 64, agents.map((id) => ({ id }))).trigger();
    // Storage takes the case's claim (the post's first transaction) and then nothing more from this post.
    let batches = 0;
    const gate: StorageGate = (req) => Promise.resolve(req.service === 'table' && req.method === 'POST' && req.shape === '/$batch' && ++batches > 1 ? 'drop' : 'forward');
    const caseId = caseIdOf(parseAlert(trigger).dedupeKey);
    const partial = await app.withStorageGate(gate, async () => {
      await expect(accept(trigger)).rejects.toThrow();
      return app.deps.cases.load(caseId); // read while storage still refuses the rest of this post
    });
    expect(partial?.targets).toHaveLength(TRANSACTION_MAX - 1);
    // Nothing accepted is lost: the retry (a new post) adds what is missing, and is queued. A storage client's own retry
    // of the refused write may still land once storage answers again (a loaded machine): the post adds what it finds missing.
    const stored = (await app.deps.cases.load(caseId))?.targets.length ?? 0;
    const retried = await accept(trigger);
    expect(retried).toMatchObject({ status: 200, enqueue: true, added: AGENTS - stored });
    expect(await app.deps.cases.load(retried.caseId).then((c) => c?.targets.length)).toBe(AGENTS);
  });
});
