import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { decideApproval, viewApproval } from '../../shared/approvals/approval-flow';
import { requestRelease } from '../../shared/approvals/request-release';
import { checkDrift } from '../../shared/lifecycle/check-drift';
import { decisionBody, parseApprovalLink, PEOPLE, readApprovalForm } from '../helpers/approval-form';
import { signedInAs } from '../helpers/approval-sign-in';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { SILENT, sweep, ticketKeys } from '../helpers/lifecycle-tenant';

function reEnable(app: InProcessApp, id: string): void {
  const obj = app.sim.state.get(id);
  if (!obj) {
    throw new Error(`no object ${id}`);
  }
  obj.accountEnabled = true;
}

function incidentComments(app: InProcessApp): unknown[] {
  return app.sim.state.allComments();
}

describe('drift check', () => {
  let app: InProcessApp;
  let originalCaseId: string;
  let driftCaseId: string;

  beforeAll(async () => {
    app = await startInProcessApp();
    originalCaseId = await app.containDemoAgent();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('contains again an agent re-enabled outside the release process: new case, ticket, comment on the original incident', async () => {
    expect(app.sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(false);
    const commentsBefore = incidentComments(app).length;
    expect(await checkDrift(app.deps, SILENT)).toMatchObject({ checked: 1, reEnabled: 0, casesOpened: 0 });

    reEnable(app, DEMO.agents.invoice);
    expect(await checkDrift(app.deps, SILENT)).toMatchObject({ checked: 1, reEnabled: 1, casesOpened: 1, errors: 0 });
    // Checked again before the new case ran: the original target now points at it, so no second case.
    expect(await checkDrift(app.deps, SILENT)).toMatchObject({ checked: 0, casesOpened: 0 });
    await app.drainQueue();

    expect(app.sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(false);
    const original = await app.deps.cases.load(originalCaseId);
    const target = original?.targets.find((t) => t.objectId === DEMO.agents.invoice);
    expect(target?.status).toBe('joined');
    driftCaseId = target?.joinedCaseId ?? '';
    const drift = await app.deps.cases.load(driftCaseId);
    expect(drift?.record).toMatchObject({ kind: 'containment', source: 'drift', relatedCaseId: originalCaseId, incidentArmId: original?.record.incidentArmId, status: 'done' });
    expect(drift?.targets[0]).toMatchObject({ objectId: DEMO.agents.invoice, status: 'contained' });
    expect(ticketKeys(app)).toContain(`agent-responders:${driftCaseId}`);
    expect(incidentComments(app)).toHaveLength(commentsBefore + 1);
    const audit = await app.deps.audit.list(originalCaseId);
    expect(audit.some((e) => e.action === 'drift.detected' && e.detail?.includes(driftCaseId))).toBe(true);
  });

  it('leaves alone a target released through an approval', async () => {
    const release = await requestRelease(app.deps, driftCaseId, { targetId: DEMO.agents.invoice, reason: 'false positive, confirmed with the sponsor' }, await signedInAs(app, PEOPLE.onCall));
    const { id, token } = parseApprovalLink(release.approvalUrl ?? '');
    const form = readApprovalForm((await viewApproval(app.deps, id, token, await signedInAs(app, PEOPLE.socLead))).body);
    await decideApproval(app.deps, id, decisionBody(form ?? { token: '', af: '' }, 'approve'), await signedInAs(app, PEOPLE.socLead));
    await app.drainQueue();
    expect(app.sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(true);

    const casesBefore = (await app.deps.cases.casesWithStatus('done')).length;
    expect(await checkDrift(app.deps, SILENT)).toMatchObject({ checked: 0, reEnabled: 0, casesOpened: 0 });
    expect(await app.queuedMessages()).toEqual([]);
    expect((await app.deps.cases.casesWithStatus('done')).length).toBe(casesBefore);
  });

  it('disables again, through the lifecycle plan, an expired agent re-enabled after the sweep disabled it', async () => {
    await sweep(app);
    await app.drainQueue();
    expect(app.sim.state.get(DEMO.agents.expired)?.accountEnabled).toBe(false);

    reEnable(app, DEMO.agents.expired);
    expect(await checkDrift(app.deps, SILENT)).toMatchObject({ reEnabled: 1, casesOpened: 1 });
    await app.drainQueue();

    expect(app.sim.state.get(DEMO.agents.expired)?.accountEnabled).toBe(false);
    const driftCases = (await app.deps.cases.casesWithStatus('done')).filter((c) => c.kind === 'expiry' && c.source === 'drift');
    expect(driftCases).toHaveLength(1);
    const bundle = await app.deps.cases.load(driftCases[0]?.caseId ?? '');
    expect(bundle?.targets[0]).toMatchObject({ objectId: DEMO.agents.expired, status: 'contained' });
    expect(bundle?.steps.map((s) => [s.action, s.state]).sort()).toEqual([
      ['disable', 'done'],
      ['notify-sponsors', 'done'],
      ['ticket', 'done'],
    ]);
    expect(app.sim.state.mail.some((m) => m.subject.includes('Legacy Expense Agent was disabled'))).toBe(true);
  });
});
