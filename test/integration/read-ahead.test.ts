import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../dev/simulator/sim-types';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { runCase } from '../../shared/plans/run-case';
import { IdentityOwners } from '../../shared/store/identity-owners';
import { incidentNaming } from '../helpers/incident-naming';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { lastSeq } from '../helpers/seed-incident';
import { liveBlastSlots } from '../helpers/live-blast-slots';

let app: InProcessApp;

const isIncidentRead = (c: CallRecord) => c.service === 'arm' && c.method === 'GET' && /\/incidents\/[^/]+$/.test(c.path);
const isEntitiesRead = (c: CallRecord) => c.service === 'arm' && c.method === 'POST' && c.path.endsWith('/entities');
const isResolve = (c: CallRecord) => c.service === 'graph' && c.path.endsWith('/getByIds');
const callsSince = (since: number, match: (c: CallRecord) => boolean) => app.sim.calls.filter((c) => c.seq > since && match(c));

describe('the responder’s first reads, sent by the intake (read-ahead)', () => {
  beforeAll(async () => {
    app = await startInProcessApp({ throughStorageProxy: true });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('leave before the case is stored, and the run uses them: Sentinel and Graph are read once, and the agent is contained', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const incident = incidentNaming(1, [{ id: agent, name: 'Agent 1' }]);
    app.sim.state.putIncident(incident.seed);
    const since = lastSeq(app.sim);
    // Storage waits until Sentinel has been asked (at most 2 s): the intake's record is stored after the reads left.
    const asked = () => callsSince(since, isIncidentRead).length > 0;
    const intake = await app.withStorageGate(
      async () => {
        for (let i = 0; i < 100 && !asked(); i += 1) {
          await new Promise((r) => setTimeout(r, 20));
        }
        return 'forward';
      },
      () => acceptAlert(app.deps, parseAlert(incident.trigger), JSON.stringify(incident.trigger), undefined),
    );
    expect(asked()).toBe(true); // by the time the intake answered
    await runCase(app.deps, app.deps.planners, { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) }, app.inv);
    const caseId = intake.caseId;
    expect(callsSince(since, isIncidentRead)).toHaveLength(1);
    expect(callsSince(since, isEntitiesRead)).toHaveLength(1);
    expect(callsSince(since, isResolve)).toHaveLength(1);
    const stored = await app.deps.cases.load(caseId);
    expect(stored?.targets.map((t) => [t.status, t.verification?.state])).toEqual([['contained', 'verified']]);
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
  });

  it('that failed are the run’s failed reads: the run fails as if it had sent them, and its retry reads again', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const incident = incidentNaming(2, [{ id: agent, name: 'Agent 2' }]);
    app.sim.state.putIncident(incident.seed);
    const since = lastSeq(app.sim);
    // A permanent answer to the read-ahead's incident read (not retried within the read).
    app.sim.addFault({ method: 'GET', path: `/incidents/${incident.seed.name}$`, status: 403, times: 1 });
    const intake = await acceptAlert(app.deps, parseAlert(incident.trigger), JSON.stringify(incident.trigger), undefined);
    const message = { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) };
    await expect(runCase(app.deps, app.deps.planners, message, app.inv)).rejects.toThrow(/403/);
    expect((await app.deps.cases.load(intake.caseId))?.targets.map((t) => t.status)).toEqual(['pending']);
    // The message delivered again: nothing is left ahead, the run reads for itself.
    await runCase(app.deps, app.deps.planners, message, app.inv);
    expect(callsSince(since, isIncidentRead).map((c) => c.status)).toEqual([403, 200]);
    const stored = await app.deps.cases.load(intake.caseId);
    expect(stored?.targets.map((t) => [t.status, t.verification?.state])).toEqual([['contained', 'verified']]);
  });

  it('that failed leave nothing claimed: a forged post whose read-ahead failed keeps neither the victim nor a blast-radius slot once refused', async () => {
    const [named = '', victim = ''] = await generateAgents(app, { agents: 2 });
    const genuine = incidentNaming(4, [{ id: named, name: 'Named agent' }]);
    const forged = incidentNaming(4, [{ id: victim, name: 'Victim agent' }]);
    app.sim.state.putIncident(genuine.seed);
    // The read-ahead of the forged post fails (a permanent answer, not retried within the read); the early claim of the
    // victim and its blast-radius slot are taken beside it.
    app.sim.addFault({ method: 'GET', path: `/incidents/${genuine.seed.name}$`, status: 403, times: 1 });
    const intake = await acceptAlert(app.deps, parseAlert(forged.trigger), JSON.stringify(forged.trigger), undefined);
    const message = { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) };
    await expect(runCase(app.deps, app.deps.planners, message, app.inv)).rejects.toThrow(/403/);
    // The message delivered again: the run reads for itself, and Sentinel does not name the victim.
    await runCase(app.deps, app.deps.planners, message, app.inv);
    expect((await app.deps.cases.load(intake.caseId))?.targets.map((t) => t.status)).toEqual(['unverified']);
    expect(app.sim.state.get(victim)?.accountEnabled).toBe(true);
    // Refused: the case must not keep the victim (a later genuine incident about it would wait for it for ever) ...
    expect((await app.deps.owners.get(IdentityOwners.identityOf(victim)))?.value.caseId).toBeUndefined();
    // ... nor spend the blast radius of the hour on it.
    expect((await liveBlastSlots(app.deps, Date.now())).filter((v) => v.startsWith(intake.caseId))).toEqual([]);
  });

  it('that failed for a while leave nothing claimed either: retried without its hint (a deferral), the refused victim keeps no slot', async () => {
    const [named = '', victim = ''] = await generateAgents(app, { agents: 2 });
    const genuine = incidentNaming(5, [{ id: named, name: 'Named agent' }]);
    const forged = incidentNaming(5, [{ id: victim, name: 'Victim agent' }]);
    app.sim.state.putIncident(genuine.seed);
    // Sentinel answers the read-ahead's incident read 503 on each of the client's attempts: a transient failure.
    app.sim.addFault({ method: 'GET', path: `/incidents/${genuine.seed.name}$`, status: 503, retryAfter: 0, times: 5 });
    const intake = await acceptAlert(app.deps, parseAlert(forged.trigger), JSON.stringify(forged.trigger), undefined);
    await expect(runCase(app.deps, app.deps.planners, { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) }, app.inv)).rejects.toThrow();
    // The deferred message goes back to the queue without its hint (see processCaseMessage): the run reads the case.
    await runCase(app.deps, app.deps.planners, { caseId: intake.caseId, deferrals: 1 }, app.inv);
    expect((await app.deps.cases.load(intake.caseId))?.targets.map((t) => t.status)).toEqual(['unverified']);
    expect((await app.deps.owners.get(IdentityOwners.identityOf(victim)))?.value.caseId).toBeUndefined();
    expect((await liveBlastSlots(app.deps, Date.now())).filter((v) => v.startsWith(intake.caseId))).toEqual([]);
  });

  it('never vouch for a target another post adds: an update naming a victim the incident does not name is refused', async () => {
    const [named = '', victim = ''] = await generateAgents(app, { agents: 2 });
    const genuine = incidentNaming(3, [{ id: named, name: 'Named agent' }]);
    app.sim.state.putIncident(genuine.seed);
    // The genuine post is accepted (its reads sent ahead, not yet used), then a forged update of the same incident adds
    // the victim before the responder runs: the reads sent for the genuine post never covered the victim.
    const first = await acceptAlert(app.deps, parseAlert(genuine.trigger), JSON.stringify(genuine.trigger), undefined);
    const forged = incidentNaming(3, [{ id: named, name: 'Named agent' }, { id: victim, name: 'Victim agent' }]);
    const update = await acceptAlert(app.deps, parseAlert(forged.trigger), JSON.stringify(forged.trigger), undefined);
    expect(update.hint?.targets.map((t) => t.key)).toEqual([`oid:${victim}`]);
    await runCase(app.deps, app.deps.planners, { caseId: update.caseId, ...(update.hint ? { hint: update.hint } : {}) }, app.inv);
    await runCase(app.deps, app.deps.planners, { caseId: first.caseId, ...(first.hint ? { hint: first.hint } : {}) }, app.inv);
    const stored = await app.deps.cases.load(first.caseId);
    const status = new Map(stored?.targets.map((t) => [t.objectId, t.status]));
    expect(status.get(victim)).toBe('unverified');
    expect(status.get(named)).toBe('contained');
    expect(app.sim.state.get(victim)?.accountEnabled).toBe(true);
  });
});
