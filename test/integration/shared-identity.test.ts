import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { CaseBusyError, CaseLease } from '../../shared/plans/case-lease';
import { runCase } from '../../shared/plans/run-case';
import { targetRow } from '../../shared/store/case-model';
import { IdentityOwners } from '../../shared/store/identity-owners';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { seedIncident } from '../helpers/seed-incident';

let app: InProcessApp;

const ownerOf = async (agent: string) => (await app.deps.owners.get(IdentityOwners.identityOf(agent)))?.value;

async function post(trigger: Record<string, unknown>): Promise<{ caseId: string }> {
  const intake = await acceptAlert(app.deps, parseAlert(trigger), JSON.stringify(trigger), undefined);
  await runCase(app.deps, app.deps.planners, { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) }, app.inv);
  return intake;
}

describe('two targets of a case naming the same identity', () => {
  beforeAll(async () => {
    app = await startInProcessApp({ env: { MIN_INCIDENT_SEVERITY: 'Medium' } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('an earlier target that acted on nothing does not make the run give back the claim the newly named one contains with', async () => {
    const agents = await generateAgents(app, { agents: 8 });
    // The case's rows load in row-key order: pick an agent whose appId target loads after its object-id target.
    const agent = agents.find((id) => {
      const appId = String(app.sim.state.get(id)?.['appId']);
      return targetRow(`app:${appId}`) > targetRow(`oid:${id}`);
    });
    expect(agent).toBeDefined();
    const id = agent ?? '';
    const appId = String(app.sim.state.get(id)?.['appId']);
    // A Low incident names the agent by its application: below MIN_INCIDENT_SEVERITY, it is skipped (it claims nothing).
    const low = seedIncident(app.sim, 31, [{ appId, name: 'Agent app' }], { severity: 'Low' });
    const { caseId } = await post(low.trigger());
    expect((await app.deps.cases.load(caseId))?.targets.map((t) => [t.objectId, t.status])).toEqual([[id, 'skipped']]);
    // The incident is raised to High and now names the agent's account too: the update contains it.
    const high = seedIncident(app.sim, 31, [{ appId, name: 'Agent app' }, { id, name: 'Agent account' }], { severity: 'High' });
    await post(high.trigger('Update'));
    const stored = new Map((await app.deps.cases.load(caseId))?.targets.map((t) => [t.key, t.status]));
    expect(stored.get(`oid:${id}`)).toBe('contained');
    expect(app.sim.state.get(id)?.accountEnabled).toBe(false);
    // The case that contained it keeps the identity (later alerts about it join this case).
    expect(await ownerOf(id)).toMatchObject({ caseId, state: 'contained' });
  });

  it('a forged target refused at the source gives back the identity an earlier run took for it, though an earlier target of the case (skipped) names the same identity', async () => {
    const [id = ''] = await generateAgents(app, { agents: 1 });
    const appId = String(app.sim.state.get(id)?.['appId']);
    const low = seedIncident(app.sim, 32, [{ appId, name: 'Agent app' }], { severity: 'Low' });
    const { caseId } = await post(low.trigger());
    expect((await app.deps.cases.load(caseId))?.targets.map((t) => [t.objectId, t.status])).toEqual([[id, 'skipped']]);
    // A forged update names the agent's account too (Sentinel does not); its run meets another run's lease after its
    // early claim of the account, and its retry (no hint) refuses the forged target at the source.
    const forged = seedIncident(app.sim, 32, [{ appId, name: 'Agent app' }, { id, name: 'Agent account' }], { severity: 'Low' }).trigger('Update');
    seedIncident(app.sim, 32, [{ appId, name: 'Agent app' }], { severity: 'Low' });
    const busy = await CaseLease.acquire(app.deps.cases, caseId, 'the-first-run', 60_000, app.deps.now);
    const update = await acceptAlert(app.deps, parseAlert(forged), JSON.stringify(forged), undefined);
    await expect(runCase(app.deps, app.deps.planners, { caseId, ...(update.hint ? { hint: update.hint } : {}) }, app.inv)).rejects.toThrow(CaseBusyError);
    await busy.release();
    await runCase(app.deps, app.deps.planners, { caseId }, app.inv);
    const stored = new Map((await app.deps.cases.load(caseId))?.targets.map((t) => [t.key, t.status]));
    expect(stored.get(`oid:${id}`)).toBe('unverified');
    // Neither target acts on the identity: the case must not keep it from every later case.
    expect((await ownerOf(id))?.caseId).toBeUndefined();
  });
});
