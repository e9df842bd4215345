import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { odata } from '@azure/data-tables';
import { DEMO } from '../../dev/simulator/demo-ids';
import { parseAlert } from '../../shared/alerts/parse-alert';
import type { ApprovalEntity } from '../../shared/approvals/approval-entity';
import { expireApprovals } from '../../shared/approvals/expire-approvals';
import { requestRelease } from '../../shared/approvals/request-release';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { purgeExpired } from '../../shared/responder/purge-expired';
import { IdentityOwners } from '../../shared/store/identity-owners';
import { RecordTable } from '../../shared/store/record-table';
import { TABLES } from '../../shared/store/storage';
import { PEOPLE } from '../helpers/approval-form';
import { signedInAs } from '../helpers/approval-sign-in';
import { incidentNaming } from '../helpers/incident-naming';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';

const DAY = 86_400_000;
const SILENT = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Retention (RETENTION_DAYS, default 90): the daily timer removes finished cases older than that with every row and
 * blob that belongs to them, and keeps what is still at work (held for approval, not yet run) however old, with the
 * identity records that let those cases act.
 */
describe('the retention purge', () => {
  let app: InProcessApp;
  const now = Date.now();
  beforeAll(async () => {
    app = await startInProcessApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function rowsOf(caseId: string): Promise<number> {
    return (await new RecordTable(await app.deps.storage.table(TABLES.cases)).partition(caseId)).length;
  }
  async function blobsOf(caseId: string): Promise<string[]> {
    const names: string[] = [];
    for await (const blob of (await app.deps.storage.alertBodies()).listBlobsFlat({ prefix: `${caseId}/` })) {
      names.push(blob.name);
    }
    return names;
  }
  async function approvalsOf(caseId: string): Promise<ApprovalEntity[]> {
    return (await app.deps.approvals.query(odata`caseId eq ${caseId}`)).map((r) => r.value);
  }
  const ownerOf = async (objectId: string) => (await app.deps.owners.get(IdentityOwners.identityOf(objectId)))?.value;

  it('removes old finished cases with their rows, blobs, audit and approvals; keeps old held and unrun cases, recent ones, and their identity records', async () => {
    // 100 days ago: a containment that finished (and a release of it asked for, never decided: it expired), one
    // that named nobody in the tenant, one held for approval, and one recorded but never run (its message lost).
    app.clock.now = now - 100 * DAY;
    const contained = await app.containDemoAgent();
    await requestRelease(app.deps, contained, { targetId: DEMO.agents.invoice, reason: 'false positive' }, await signedInAs(app, PEOPLE.onCall));
    app.clock.now += 25 * 3_600_000;
    expect(await expireApprovals(app.deps)).toMatchObject({ expired: 1 });
    await app.drainQueue();
    const nobody = await app.contain(incidentNaming(901, [{ id: 'dead0000-0000-4000-8000-0000000000a1', name: 'Gone Agent' }]));
    const held = await app.contain(incidentNaming(902, [{ id: DEMO.blueprintPrincipal, name: 'Contoso Finance Agent Blueprint' }]));
    const unrun = incidentNaming(903, [{ id: DEMO.agents.orphan, name: 'Abandoned Research Agent' }]);
    app.sim.state.putIncident(unrun.seed);
    const neverRun = (await acceptAlert(app.deps, parseAlert(unrun.trigger), JSON.stringify(unrun.trigger), undefined)).caseId;
    await app.deps.audit.write({ action: 'intake.refused', scope: 'intake', actor: 'anonymous', result: 'refused', detail: 'old refusal', at: new Date(now - 100 * DAY).toISOString() });
    // Yesterday: a containment that finished, and a refusal.
    app.clock.now = now - DAY;
    const recent = await app.contain(incidentNaming(904, [{ id: DEMO.agents.expiring, name: 'Quarter-End Reconciliation Agent' }]));
    await app.deps.audit.write({ action: 'intake.refused', scope: 'intake', actor: 'anonymous', result: 'refused', detail: 'recent refusal', at: new Date(now - DAY).toISOString() });

    expect((await app.deps.cases.getCase(contained))?.status).toBe('done');
    expect((await app.deps.cases.getCase(held))?.status).toBe('held');
    expect((await app.deps.cases.getCase(neverRun))?.status).toBe('received');
    const heldApprovals = await approvalsOf(held);
    expect(heldApprovals).toHaveLength(1);
    expect((await approvalsOf(contained)).map((a) => a.status)).toEqual(['expired']);
    for (const id of [contained, nobody, held, recent]) {
      expect(await rowsOf(id)).toBeGreaterThan(1);
      expect(await blobsOf(id)).not.toEqual([]);
      expect(await app.deps.audit.list(id)).not.toEqual([]);
    }
    expect(await ownerOf(DEMO.agents.invoice)).toMatchObject({ caseId: contained, state: 'contained' });
    expect(await ownerOf(DEMO.blueprintPrincipal)).toMatchObject({ caseId: held, state: 'held' });

    app.clock.now = now;
    const summary = await purgeExpired(app.deps, SILENT);

    expect(summary).toMatchObject({ casesRemoved: 2, casesKept: 2 });
    for (const gone of [contained, nobody]) {
      expect(await rowsOf(gone)).toBe(0);
      expect(await blobsOf(gone)).toEqual([]);
      expect(await app.deps.audit.list(gone)).toEqual([]);
      expect(await app.deps.cases.load(gone)).toBeUndefined();
      expect(await approvalsOf(gone)).toEqual([]);
    }
    // The removed case no longer owns its identity: the next alert about it acts instead of joining a case that is gone.
    expect(await ownerOf(DEMO.agents.invoice)).toMatchObject({ last: { caseId: contained, outcome: 'removed' } });
    expect((await ownerOf(DEMO.agents.invoice))?.caseId).toBeUndefined();

    // Still at work, however old: the held case with its approval and its claim on the blueprint, the unrun case.
    expect((await app.deps.cases.getCase(held))?.status).toBe('held');
    expect(await approvalsOf(held)).toEqual(heldApprovals);
    expect(await ownerOf(DEMO.blueprintPrincipal)).toMatchObject({ caseId: held, state: 'held' });
    expect(await blobsOf(held)).not.toEqual([]);
    expect((await app.deps.cases.getCase(neverRun))?.status).toBe('received');
    // Recent: untouched.
    expect((await app.deps.cases.getCase(recent))?.status).toBe('done');
    expect(await ownerOf(DEMO.agents.expiring)).toMatchObject({ caseId: recent, state: 'contained' });
    expect(await blobsOf(recent)).not.toEqual([]);
    // Audit rows of other scopes: the old refusal goes, the recent one stays.
    expect((await app.deps.audit.list('intake')).map((e) => e.detail)).toEqual(['recent refusal']);

    // The unrun case still runs when its message comes; a second purge finds nothing more to remove.
    expect(await purgeExpired(app.deps, SILENT)).toMatchObject({ casesRemoved: 0, casesKept: 2, auditRowsRemoved: 0 });
  });

  it('removes nothing younger than RETENTION_DAYS', async () => {
    app.clock.now = now - 89 * DAY;
    const young = await app.contain(incidentNaming(905, [{ id: DEMO.agents.expired, name: 'Legacy Expense Agent' }]));
    app.clock.now = now;
    const summary = await purgeExpired(app.deps, SILENT);
    expect(summary.casesRemoved).toBe(0);
    expect((await app.deps.cases.getCase(young))?.status).toBe('done');
    expect(await rowsOf(young)).toBeGreaterThan(1);
  });
});
