import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEMO } from '../../dev/simulator/demo-ids';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { runCase } from '../../shared/plans/run-case';
import { recoverStuckCases, STUCK_AFTER_MS, WAITING_RECHECK_MS } from '../../shared/responder/recover-stuck-cases';
import type { StorageGate } from '../../dev/storage-proxy';
import { IdentityOwners } from '../../shared/store/identity-owners';
import { keyOf } from '../../shared/store/storage-key';
import { incidentNaming } from '../helpers/incident-naming';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';

const INCIDENT = readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8');

describe('recovering cases that lost their queue message', () => {
  let app: InProcessApp;
  beforeAll(async () => {
    app = await startInProcessApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('re-queues a recorded case whose message never reached the queue, and it is then contained', async () => {
    // The intake recorded the case, but the queue write (the output binding) never happened.
    const intake = await acceptAlert(app.deps, parseAlert(JSON.parse(INCIDENT) as unknown), INCIDENT, undefined);
    expect(await app.queuedMessages()).toEqual([]);

    expect((await recoverStuckCases(app.deps)).requeued).toEqual([]); // too recent to call stuck
    app.clock.now += STUCK_AFTER_MS + 1;
    expect((await recoverStuckCases(app.deps)).requeued).toEqual([intake.caseId]);

    expect(await app.drainQueue()).toBe(1);
    expect(app.sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(false);
    expect((await app.deps.cases.getCase(intake.caseId))?.status).toBe('done');
    expect((await recoverStuckCases(app.deps)).requeued).toEqual([]);
  });

  // A case finished, but the ownership row still says it acts on the identity: a write of it failed and nothing
  // wrote it again (this version writes it before the target's ending; an earlier one did not). A later case about
  // the identity waits for the finished case, which will never wake it.
  describe('a case waiting for a finished case that still owns the identity', () => {
    const targetsOf = async (caseId: string) => (await app.deps.cases.load(caseId))?.targets.map((t) => t.status);

    /** A genuine incident about `agent`, read after `agent` was enabled again: it waits for `owner`, then recovery runs. */
    async function waitThenRecover(n: number, agent: string, owner: string): Promise<{ waiting: string; requeued: string[] }> {
      const sp = app.sim.state.get(agent);
      if (sp) {
        sp.accountEnabled = true;
      }
      app.clock.now += 1_000;
      const waiting = await app.contain(incidentNaming(n, [{ id: agent, name: 'Agent' }]));
      expect(await targetsOf(waiting)).toEqual(['waiting']);
      expect((await app.deps.owners.get(IdentityOwners.identityOf(agent)))?.value.caseId).toBe(owner);
      await app.drainQueue();
      app.clock.now += WAITING_RECHECK_MS + 1;
      return { waiting, requeued: (await recoverStuckCases(app.deps)).requeued };
    }

    it('has the finished case settle its ownership (it contained the agent): the waiting case then contains it again', async () => {
      const [agent = ''] = await generateAgents(app, { agents: 1 });
      const owner = await app.contain(incidentNaming(20, [{ id: agent, name: 'Agent' }]));
      expect(await targetsOf(owner)).toEqual(['contained']);
      await app.deps.owners.setState(IdentityOwners.identityOf(agent), owner, 'acting', true);

      const { waiting, requeued } = await waitThenRecover(21, agent, owner);
      expect(requeued).toEqual(expect.arrayContaining([owner, waiting]));
      await app.drainQueue();
      expect(await targetsOf(waiting)).toEqual(['contained']);
      expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
    });

    it('has the finished case give back the identity its refused target still holds: the waiting case then contains it', async () => {
      const [victim = '', named = ''] = await generateAgents(app, { agents: 2 });
      // A forged post: Sentinel's incident names another agent. Its case refuses the victim and ends.
      const genuine = incidentNaming(22, [{ id: named, name: 'Named agent' }]);
      const forged = incidentNaming(22, [{ id: victim, name: 'Victim agent' }]);
      const owner = await app.contain({ seed: genuine.seed, trigger: forged.trigger });
      expect(await targetsOf(owner)).toEqual(['unverified']);
      await app.deps.owners.claim(IdentityOwners.identityOf(victim), owner, 'acting', true, new Date(app.clock.now).toISOString());

      const { waiting, requeued } = await waitThenRecover(23, victim, owner);
      expect(requeued).toEqual(expect.arrayContaining([owner, waiting]));
      await app.drainQueue();
      expect(await targetsOf(waiting)).toEqual(['contained']);
      expect(app.sim.state.get(victim)?.accountEnabled).toBe(false);
    });
  });
});

// One case recovery cannot handle (storage keeps failing a read it needs) must not stop recovery of every other case:
// the cases are read in the same order every run, so the same case would stop the same others every time.
describe('recovery, when one case cannot be handled', () => {
  let app: InProcessApp;
  beforeAll(async () => {
    app = await startInProcessApp({ throughStorageProxy: true });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('recovers the others in the same run, and the run says it failed', async () => {
    const agents = await generateAgents(app, { agents: 2 });
    const waitingFor = new Map<string, string>(); // waiting case → the agent it waits for
    for (const [i, agent] of agents.entries()) {
      // A finished case whose ownership write was lost, and a later incident, read after the agent was enabled again,
      // that waits for it.
      const owner = await app.contain(incidentNaming(30 + 2 * i, [{ id: agent, name: 'Agent' }]));
      await app.deps.owners.setState(IdentityOwners.identityOf(agent), owner, 'acting', true);
      const sp = app.sim.state.get(agent);
      if (sp) {
        sp.accountEnabled = true;
      }
      app.clock.now += 1_000;
      waitingFor.set(await app.contain(incidentNaming(31 + 2 * i, [{ id: agent, name: 'Agent' }])), agent);
    }
    await app.drainQueue();
    app.clock.now += WAITING_RECHECK_MS + 1;
    // Storage keeps failing the owner read of the agent the first waiting case (in recovery's own order) waits for.
    const order = (await app.deps.cases.casesWithStatus('waiting')).map((c) => c.caseId).filter((id) => waitingFor.has(id));
    const [first = '', second = ''] = order;
    const poisoned = keyOf(IdentityOwners.identityOf(waitingFor.get(first) ?? ''));
    const gate: StorageGate = (req) => Promise.resolve(req.service === 'table' && req.method === 'GET' && req.path.includes(poisoned) ? 'drop' : 'forward');
    await expect(app.withStorageGate(gate, () => recoverStuckCases(app.deps))).rejects.toThrow(/1 case/);

    await app.drainQueue();
    expect(app.sim.state.get(waitingFor.get(second) ?? '')?.accountEnabled).toBe(false);
    // The next run, storage answering again, recovers the first.
    await recoverStuckCases(app.deps);
    await app.drainQueue();
    expect(app.sim.state.get(waitingFor.get(first) ?? '')?.accountEnabled).toBe(false);
  });
});

// Recovery reads a page of cases in each status, in key order. Cases that wait long (a hold for approval, one incident
// after another about the same agent) fill that page with cases not yet due, run after run: a case past its re-check
// must be seen however many fresher ones sort before it.
describe('recovery, with more waiting cases than one page', () => {
  let app: InProcessApp;
  beforeAll(async () => {
    app = await startInProcessApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('re-queues the waiting case that is due, not only the fresher ones that sort first', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const owner = await app.contain(incidentNaming(40, [{ id: agent, name: 'Agent' }]));
    await app.deps.owners.setState(IdentityOwners.identityOf(agent), owner, 'acting', true);
    const sp = app.sim.state.get(agent);
    if (sp) {
      sp.accountEnabled = true;
    }
    app.clock.now += 1_000;
    const waiting: string[] = [];
    for (const n of [41, 42, 43]) {
      waiting.push(await app.contain(incidentNaming(n, [{ id: agent, name: 'Agent' }])));
    }
    await app.drainQueue();
    app.clock.now += WAITING_RECHECK_MS + 1;
    // The two that sort first ran again a moment ago (still waiting): only the last one is due.
    const [a = '', b = '', due = ''] = [...waiting].sort();
    for (const caseId of [a, b]) {
      await runCase(app.deps, app.deps.planners, { caseId }, app.inv);
    }
    for (const caseId of waiting) {
      expect((await app.deps.cases.getCase(caseId))?.status).toBe('waiting');
    }
    expect(Date.parse((await app.deps.cases.getCase(a))?.updatedAt ?? '')).toBe(app.clock.now);

    const { requeued } = await recoverStuckCases(app.deps, { pageSize: 2 });
    expect(requeued).toContain(due);
    expect(requeued).not.toContain(a);
  });
});
