import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { runCase } from '../../shared/plans/run-case';
import { IdentityOwners } from '../../shared/store/identity-owners';
import { incidentNaming } from '../helpers/incident-naming';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { liveBlastSlots } from '../helpers/live-blast-slots';

let app: InProcessApp;

const ownerOf = async (agent: string) => (await app.deps.owners.get(IdentityOwners.identityOf(agent)))?.value;

describe('a run that lost its lease while it read', () => {
  beforeAll(async () => {
    app = await startInProcessApp({ env: { CASE_LEASE_SECONDS: '30' } });
  });
  afterAll(async () => {
    app?.sim.intercept(undefined);
    await app?.stop();
  });

  it('gives back nothing of what the run that took its case over acts on (ownership and slot of a target it refused on a stale read)', async () => {
    await staleRefusalAfterTakeover(11, false);
  });

  it('nor the early claim and slot it took from the hint, which the run that took over uses', async () => {
    await staleRefusalAfterTakeover(12, true);
  });
});

/**
 * A case contains `named`; an update names `added` too. The update's run reads Sentinel before it shows the new entity
 * and stalls there past its lease; another worker takes the case over, sees the entity and contains `added`. The
 * stalled run then wakes with its stale refusal: it must give back nothing the other run acts on.
 */
async function staleRefusalAfterTakeover(n: number, withHint: boolean): Promise<void> {
  const [named = '', added = ''] = await generateAgents(app, { agents: 2 });
  const first = incidentNaming(n, [{ id: named, name: 'Named agent' }]);
  const caseId = await app.contain(first);
  // The incident gains an entity; the playbook posts the update. The update's first run reads Sentinel before it
  // shows the new entity (a lagging read), and stalls there past its lease.
  const update = incidentNaming(n, [
    { id: named, name: 'Named agent' },
    { id: added, name: 'Added agent' },
  ]);
  let stalled!: () => void;
  const gate = new Promise<void>((resolve) => {
    stalled = resolve;
  });
  let reached!: () => void;
  const atRead = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let blocked = false;
  const stallNextRead = () =>
    app.sim.intercept(async (call, phase) => {
      if (!blocked && phase === 'committed' && call.service === 'arm' && call.path.endsWith('/entities')) {
        blocked = true;
        reached();
        await gate;
      }
      return 'continue';
    });
  // With the hint, the stalled read is the intake's read-ahead, which the run takes up; without it, the run's own.
  if (withHint) {
    stallNextRead();
  }
  const since = app.sim.calls.at(-1)?.seq ?? 0;
  const intake = await acceptAlert(app.deps, parseAlert(update.trigger), JSON.stringify(update.trigger), undefined);
  if (!withHint) {
    // The intake sent the added target's reads ahead (an update's new target); they are not the run's, which has no
    // hint: wait until they are answered, so the read stalled is the run's own.
    await expect.poll(() => app.sim.calls.filter((c) => c.seq > since && c.service === 'arm' && c.path.endsWith('/entities')).length).toBeGreaterThanOrEqual(1);
    stallNextRead();
  }
  const slow = runCase(app.deps, app.deps.planners, { caseId: intake.caseId, ...(withHint && intake.hint ? { hint: intake.hint } : {}) }, { ...app.inv, id: 'slow-run' }).catch((err: unknown) => err);
  await atRead;
  // The slow run holds the case (with the hint, the read it waits for may have left before it took the lease).
  while ((await app.deps.cases.getLease(caseId))?.value.owner !== 'slow-run') {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // The lease lapses; Sentinel now names the added agent, and the retry (another worker) takes the case over and contains it.
  app.clock.now += 31_000;
  app.sim.state.putIncident(update.seed);
  await runCase(app.deps, app.deps.planners, { caseId }, { ...app.inv, id: 'takeover-run' });
  expect(app.sim.state.get(added)?.accountEnabled).toBe(false);
  expect((await ownerOf(added))?.caseId).toBe(caseId);
  const slotOf = `${caseId}|oid:${added}|0`;
  const liveSlots = () => liveBlastSlots(app.deps, app.deps.now());
  expect(await liveSlots()).toContain(slotOf);

  // The stalled run wakes up with its stale answer (the added agent not named) and no lease.
  stalled();
  await slow;
  app.sim.intercept(undefined);
  const stored = new Map((await app.deps.cases.load(caseId))?.targets.map((t) => [t.objectId, t.status]));
  expect(stored.get(added)).toBe('contained');
  // The identity stays with the case that contained it, and the slot its containment spent stays spent.
  expect(await ownerOf(added)).toMatchObject({ caseId, state: 'contained' });
  expect(await liveSlots()).toContain(slotOf);
}
