import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageGate } from '../../dev/storage-proxy';
import type { CaseMessage } from '../../shared/store/case-queue';
import type { SeedIncident } from '../../dev/simulator/sim-types';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { runCase } from '../../shared/plans/run-case';
import { failCase } from '../../shared/plans/fail-case';
import { CaseBusyError, CaseLease } from '../../shared/plans/case-lease';
import { IdentityOwners } from '../../shared/store/identity-owners';
import { incidentNaming } from '../helpers/incident-naming';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { loseFirstAnswer } from '../helpers/lose-answer';
import { liveBlastSlots } from '../helpers/live-blast-slots';

let app: InProcessApp;

/** Puts `seed` in Sentinel, posts `trigger` through the intake and runs the case once, with its hint (early claims). */
async function postAndRun(seed: SeedIncident, trigger: Record<string, unknown>): Promise<string> {
  app.sim.state.putIncident(seed);
  const intake = await acceptAlert(app.deps, parseAlert(trigger), JSON.stringify(trigger), undefined);
  await runCase(app.deps, app.deps.planners, { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) }, app.inv);
  return intake.caseId;
}

/** An incident naming `agent` at `severity`, as Sentinel holds it and as the playbook posts it. */
function incidentAt(n: number, agent: string, severity: string): { seed: SeedIncident; trigger: Record<string, unknown> } {
  const incident = incidentNaming(n, [{ id: agent, name: `Agent ${n}` }]);
  incident.seed.properties['severity'] = severity;
  ((incident.trigger['object'] as Record<string, unknown>)['properties'] as Record<string, unknown>)['severity'] = severity;
  return incident;
}

/** Storage takes new ownership claims but fails every change to a stored one (a give-back is one). */
const failOwnerWrites: StorageGate = (req) => Promise.resolve(req.service === 'table' && req.method === 'PUT' && req.shape === '/owners(…)' ? 'drop' : 'forward');
/**
 * A forged post (Sentinel's incident `n` names another agent, the post names the victim) whose run refuses the victim
 * and fails: storage took the claim and the refusal, then failed every write of the claim's give-back.
 */
async function forgedPostWhoseGiveBackFails(n: number): Promise<{ victim: string; message: CaseMessage }> {
  const [victim = '', named = ''] = await generateAgents(app, { agents: 2 });
  app.sim.state.putIncident(incidentNaming(n, [{ id: named, name: 'Named agent' }]).seed);
  const forged = incidentNaming(n, [{ id: victim, name: 'Victim agent' }]);
  const intake = await acceptAlert(app.deps, parseAlert(forged.trigger), JSON.stringify(forged.trigger), undefined);
  const message = { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) };
  await expect(app.withStorageGate(failOwnerWrites, () => runCase(app.deps, app.deps.planners, message, app.inv))).rejects.toThrow();
  expect((await ownerOf(victim))?.caseId).toBe(intake.caseId);
  return { victim, message };
}

const ownerOf = async (agent: string) => (await app.deps.owners.get(IdentityOwners.identityOf(agent)))?.value;
const statusesOf = async (caseId: string) => (await app.deps.cases.load(caseId))?.targets.map((t) => t.status);

describe('early ownership claims a run does not use are given back', () => {
  beforeAll(async () => {
    app = await startInProcessApp({ env: { MIN_INCIDENT_SEVERITY: 'Medium' }, throughStorageProxy: true });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('gives back the claim of a target skipped below MIN_INCIDENT_SEVERITY, so a later incident about the identity contains it', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const low = incidentAt(1, agent, 'Low');
    const skipped = await postAndRun(low.seed, low.trigger);
    expect(await statusesOf(skipped)).toEqual(['skipped']);
    // The skipped case acts on nothing: it must not keep the identity as if it were acting on it.
    expect((await ownerOf(agent))?.caseId).toBeUndefined();

    const high = incidentAt(2, agent, 'High');
    const contained = await postAndRun(high.seed, high.trigger);
    expect(await statusesOf(contained)).toEqual(['contained']);
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
  });

  it('gives back the claim of a refused target when the answer of the claim was lost (stored: the claim is still fresh)', async () => {
    const [victim = '', named = ''] = await generateAgents(app, { agents: 2 });
    // A forged body: Sentinel's incident names another agent, the post names the victim; the victim is refused.
    const genuine = incidentNaming(3, [{ id: named, name: 'Named agent' }]);
    const forged = incidentNaming(3, [{ id: victim, name: 'Victim agent' }]);
    const { gate, lost } = loseFirstAnswer((req) => req.service === 'table' && req.method === 'POST' && req.shape === '/owners');
    const refused = await app.withStorageGate(gate, () => postAndRun(genuine.seed, forged.trigger));
    expect(lost()).toBe(1);
    expect(await statusesOf(refused)).toEqual(['unverified']);
    expect((await ownerOf(victim))?.caseId).toBeUndefined();

    // A genuine incident about the victim later: it is contained, not left waiting for the refused case.
    const real = incidentNaming(4, [{ id: victim, name: 'Victim agent' }]);
    const contained = await postAndRun(real.seed, real.trigger);
    expect(await statusesOf(contained)).toEqual(['contained']);
    expect(app.sim.state.get(victim)?.accountEnabled).toBe(false);
  });

  it('gives back the claim of a refused target on the retry when storage failed the give-back (the refusal was already stored)', async () => {
    const { victim, message } = await forgedPostWhoseGiveBackFails(8);
    expect(await statusesOf(message.caseId)).toEqual(['unverified']);

    // The queue delivers the same message again: the retry gives the victim back, though its target was refused before.
    await runCase(app.deps, app.deps.planners, message, app.inv);
    expect(await statusesOf(message.caseId)).toEqual(['unverified']);
    expect((await ownerOf(victim))?.caseId).toBeUndefined();
    const real = incidentNaming(9, [{ id: victim, name: 'Victim agent' }]);
    const contained = await postAndRun(real.seed, real.trigger);
    expect(await statusesOf(contained)).toEqual(['contained']);
    expect(app.sim.state.get(victim)?.accountEnabled).toBe(false);
  });

  it('gives back the claim of a refused target when the host gave up on the message (every give-back failed), once storage answers again', async () => {
    const { victim, message } = await forgedPostWhoseGiveBackFails(10);

    // The poison queue's handler: the case ends failed, and the forged target does not keep the victim.
    await failCase(app.deps, message, app.inv);
    expect(await statusesOf(message.caseId)).toEqual(['unverified']);
    expect((await ownerOf(victim))?.caseId).toBeUndefined();
    const real = incidentNaming(11, [{ id: victim, name: 'Victim agent' }]);
    const contained = await postAndRun(real.seed, real.trigger);
    expect(await statusesOf(contained)).toEqual(['contained']);
    expect(app.sim.state.get(victim)?.accountEnabled).toBe(false);
  });
});

describe('a claim a run took while another run of its case held the lease', () => {
  beforeAll(async () => {
    app = await startInProcessApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('is given back when the later run refuses the target at the source (a forged update cannot keep the victim)', async () => {
    const [named = '', victim = ''] = await generateAgents(app, { agents: 2 });
    const genuine = incidentNaming(7, [{ id: named, name: 'Named agent' }]);
    app.sim.state.putIncident(genuine.seed);
    const first = await acceptAlert(app.deps, parseAlert(genuine.trigger), JSON.stringify(genuine.trigger), undefined);
    // Another run of the case holds its lease (the first post's run, still busy) when the forged update's run starts.
    const busy = await CaseLease.acquire(app.deps.cases, first.caseId, 'the-first-run', 60_000, app.deps.now);
    const forged = incidentNaming(7, [{ id: named, name: 'Named agent' }, { id: victim, name: 'Victim agent' }]);
    const update = await acceptAlert(app.deps, parseAlert(forged.trigger), JSON.stringify(forged.trigger), undefined);
    await expect(runCase(app.deps, app.deps.planners, { caseId: update.caseId, ...(update.hint ? { hint: update.hint } : {}) }, app.inv)).rejects.toThrow(CaseBusyError);
    await busy.release();
    // The update's retry (a deferral drops the hint) refuses the victim: the identity must not stay with the case.
    await runCase(app.deps, app.deps.planners, { caseId: update.caseId }, app.inv);
    const status = new Map((await app.deps.cases.load(first.caseId))?.targets.map((t) => [t.objectId, t.status]));
    expect(status.get(victim)).toBe('unverified');
    expect(status.get(named)).toBe('contained');
    expect((await ownerOf(victim))?.caseId).toBeUndefined();
    expect((await ownerOf(named))?.caseId).toBe(first.caseId);
    // Nor does it keep the blast-radius slot the busy run took for the victim.
    expect(await liveBlastSlots(app.deps, app.deps.now())).not.toContain(`${first.caseId}|oid:${victim}|0`);
  });
});

describe('early blast-radius slots a run does not use are given back', () => {
  beforeAll(async () => {
    app = await startInProcessApp({ env: { BLAST_RADIUS_PER_HOUR: '1' } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('does not let a forged post (its target refused at the source) spend the blast radius of the hour', async () => {
    const [victim = '', named = '', other = ''] = await generateAgents(app, { agents: 3 });
    const genuine = incidentNaming(5, [{ id: named, name: 'Named agent' }]);
    const forged = incidentNaming(5, [{ id: victim, name: 'Victim agent' }]);
    const refused = await postAndRun(genuine.seed, forged.trigger);
    expect(await statusesOf(refused)).toEqual(['unverified']);
    expect(app.sim.state.get(victim)?.accountEnabled).toBe(true);

    // The one slot of the hour is still free: a genuine incident is contained at once, not held for approval.
    const real = incidentNaming(6, [{ id: other, name: 'Other agent' }]);
    const contained = await postAndRun(real.seed, real.trigger);
    expect(await statusesOf(contained)).toEqual(['contained']);
    expect(app.sim.state.get(other)?.accountEnabled).toBe(false);
  });
});
