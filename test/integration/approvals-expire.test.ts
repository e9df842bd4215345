import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { decideApproval, viewApproval } from '../../shared/approvals/approval-flow';
import type { ApprovalEntity } from '../../shared/approvals/approval-entity';
import { approvalColumns } from '../../shared/approvals/approval-columns';
import { expireApprovals } from '../../shared/approvals/expire-approvals';
import { approvalLink } from '../../shared/approvals/approval-link';
import { requestRelease } from '../../shared/approvals/request-release';
import { decisionBody, PEOPLE, pageText, parseApprovalLink, readApprovalForm } from '../helpers/approval-form';
import { signedInAs } from '../helpers/approval-sign-in';
import { incidentNaming } from '../helpers/incident-naming';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { loseFirstAnswer } from '../helpers/lose-answer';

const HOUR = 3_600_000;
let app: InProcessApp;

beforeAll(async () => {
  app = await startInProcessApp({ throughStorageProxy: true });
});
afterAll(async () => {
  await app?.stop();
});

const approvalOf = (id: string): Promise<ApprovalEntity> => app.approval(id);

function ticketNotes(): string[] {
  return app.sim.state.tickets.servicenow.flatMap((t) => t.journal.map((j) => String(j.value)));
}

async function targetOf(caseId: string, objectId: string) {
  return (await app.deps.cases.load(caseId))?.targets.find((t) => t.objectId === objectId);
}

describe('the approvals timer', () => {
  it('audits and announces an expiry that was stored but whose answer was lost (the retry meets its own write)', async () => {
    const [agentId] = await generateAgents(app, { agents: 1 });
    const caseId = await app.contain(incidentNaming(71, [{ id: agentId ?? '', name: 'Generated agent' }]));
    const asked = await requestRelease(app.deps, caseId, { targetId: agentId ?? '', reason: 'false positive' }, await signedInAs(app, PEOPLE.onCall));
    const saved = app.clock.now;
    app.clock.now = (await approvalOf(asked.approvalId)).expiresAt;
    const { gate, lost } = loseFirstAnswer((req) => req.service === 'table' && req.method === 'PUT' && req.shape.startsWith('/approvals('));
    try {
      expect(await app.withStorageGate(gate, () => expireApprovals(app.deps))).toMatchObject({ expired: 1, escalated: 1 });
    } finally {
      app.clock.now = saved;
    }
    expect(lost()).toBe(1);
    const expiries = (await app.deps.audit.list(caseId)).filter((e) => e.action === 'approval.expired' && e.detail?.startsWith(asked.approvalId) === true);
    expect(expiries).toHaveLength(1);
    await app.drainQueue();
    expect((await approvalOf(asked.approvalId)).status).toBe('expired');
  });

  it('leaves a request alone before its deadline, then expires it, writes it on the case and escalates on the ticket', async () => {
    const caseId = await app.containDemoAgent();
    const asked = await requestRelease(app.deps, caseId, { targetId: DEMO.agents.invoice, reason: 'false positive' }, await signedInAs(app, PEOPLE.onCall));
    const approval = await approvalOf(asked.approvalId);
    expect(approval.expiresAt - app.clock.now).toBe(24 * HOUR); // APPROVAL_TTL_HOURS default

    app.clock.now = approval.expiresAt - 1;
    expect(await expireApprovals(app.deps)).toMatchObject({ expired: 0 });
    expect((await approvalOf(asked.approvalId)).status).toBe('pending');

    app.clock.now = approval.expiresAt;
    expect(await expireApprovals(app.deps)).toMatchObject({ expired: 1, escalated: 1 });
    // The timer hands the expiry to the case, which writes it under its lease.
    await app.drainQueue();

    expect(await approvalOf(asked.approvalId)).toMatchObject({ status: 'expired', decisions: [] });
    const target = await targetOf(caseId, DEMO.agents.invoice);
    expect(target?.status).toBe('contained');
    expect(target?.reason).toContain('Release request expired');
    expect(app.sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(false);
    expect(ticketNotes().filter((n) => n.startsWith('ESCALATION') && n.includes('Contoso Invoice Agent'))).toHaveLength(1);
    expect((await app.deps.audit.list(caseId)).map((e) => e.action)).toEqual(expect.arrayContaining(['approval.expired', 'approval.escalated']));

    // A second run finds nothing more to do; the link now says it expired and decides nothing.
    expect(await expireApprovals(app.deps)).toMatchObject({ expired: 0, escalated: 0 });
    const { id, token } = parseApprovalLink(asked.approvalUrl ?? '');
    const page = await viewApproval(app.deps, id, token, await signedInAs(app, PEOPLE.socLead));
    expect(page.status).toBe(410);
    expect(pageText(page.body)).toContain('This approval link has expired');
  });

  it('lets a decision made just before the deadline stand', async () => {
    const caseId = await app.contain(incidentNaming(11, [{ id: DEMO.agents.orphan, name: 'Abandoned Research Agent' }]));
    const asked = await requestRelease(app.deps, caseId, { targetId: DEMO.agents.orphan, reason: 'owner confirmed' }, await signedInAs(app, PEOPLE.onCall));
    const approval = await approvalOf(asked.approvalId);
    const { id, token } = parseApprovalLink(asked.approvalUrl ?? '');

    app.clock.now = approval.expiresAt - 60_000;
    const form = readApprovalForm((await viewApproval(app.deps, id, token, await signedInAs(app, PEOPLE.socLead))).body);
    app.clock.now = approval.expiresAt - 1;
    const decided = await decideApproval(app.deps, id, decisionBody(form ?? { token, af: '' }, 'reject', 'still under investigation'), await signedInAs(app, PEOPLE.socLead));
    expect(decided.status).toBe(200);

    app.clock.now = approval.expiresAt + HOUR;
    expect(await expireApprovals(app.deps)).toMatchObject({ expired: 0 });
    await app.drainQueue();
    expect((await approvalOf(id)).status).toBe('rejected');
    const target = await targetOf(caseId, DEMO.agents.orphan);
    expect(target?.status).toBe('contained');
    expect(target?.reason).toContain(`Release rejected by ${DEMO.approverUpns[0]}`);
    expect(target?.reason).toContain('"still under investigation"');
  });

  it('expires a held containment nobody decided: the identity stays untouched, the hold ends and says why, and a new alert asks again', async () => {
    const caseId = await app.contain(incidentNaming(12, [{ id: DEMO.blueprintPrincipal, name: 'Contoso Finance Agent Blueprint' }]));
    const held = await targetOf(caseId, DEMO.blueprintPrincipal);
    expect(held?.status).toBe('held');
    const approval = await approvalOf(held?.approvalId ?? '');

    app.clock.now = approval.expiresAt;
    expect(await expireApprovals(app.deps)).toMatchObject({ expired: 1 });
    await app.drainQueue();

    const after = await targetOf(caseId, DEMO.blueprintPrincipal);
    expect(after?.status).toBe('expired');
    expect(after?.reason).toContain('Containment request expired');
    expect(app.sim.state.get(DEMO.blueprintPrincipal)?.accountEnabled).toBe(true);
    expect(ticketNotes().some((n) => n.startsWith('ESCALATION') && n.includes('Contoso Finance Agent Blueprint'))).toBe(true);

    // The lapsed hold no longer claims the identity: the next incident naming it gets its own approval.
    const again = await app.contain(incidentNaming(14, [{ id: DEMO.blueprintPrincipal, name: 'Contoso Finance Agent Blueprint' }]));
    const heldAgain = await targetOf(again, DEMO.blueprintPrincipal);
    expect(heldAgain?.status).toBe('held');
    expect(heldAgain?.approvalId).not.toBe(held?.approvalId);
    const second = await approvalOf(heldAgain?.approvalId ?? '');
    expect(second.status).toBe('pending');
    app.clock.now = second.expiresAt; // let it lapse too, so the tests below start with nothing pending
    expect(await expireApprovals(app.deps)).toMatchObject({ expired: 1 });
  });

  it('sends an escalation the ticket system refused on a later run', async () => {
    const caseId = await app.contain(incidentNaming(13, [{ id: DEMO.plainSp, name: 'Payroll Export Service' }]));
    const asked = await requestRelease(app.deps, caseId, { targetId: DEMO.plainSp, reason: 'vendor fixed it' }, await signedInAs(app, PEOPLE.onCall));
    const approval = await approvalOf(asked.approvalId);

    app.sim.addFault({ path: '^/api/now/', status: 500, times: 1000 });
    app.clock.now = approval.expiresAt;
    expect(await expireApprovals(app.deps)).toMatchObject({ expired: 1, escalated: 0 });
    expect((await approvalOf(asked.approvalId)).status).toBe('expired');

    app.sim.clearFaults();
    expect(await expireApprovals(app.deps)).toMatchObject({ expired: 0, escalated: 1 });
    expect(ticketNotes().filter((n) => n.startsWith('ESCALATION') && n.includes('Payroll Export Service'))).toHaveLength(1);
  });

  it('hands a granted approval to the responder again when its action never reached the queue', async () => {
    const caseId = await app.contain(incidentNaming(14, [{ id: DEMO.classicSp, name: 'Support Copilot (classic app)' }]));
    const asked = await requestRelease(app.deps, caseId, { targetId: DEMO.classicSp, reason: 'rotated' }, await signedInAs(app, PEOPLE.onCall));
    const { id, token } = parseApprovalLink(asked.approvalUrl ?? approvalLink(app.deps.config, await approvalOf(asked.approvalId)) ?? '');
    const form = readApprovalForm((await viewApproval(app.deps, id, token, await signedInAs(app, PEOPLE.socLead))).body);
    await decideApproval(app.deps, id, decisionBody(form ?? { token, af: '' }, 'approve'), await signedInAs(app, PEOPLE.socLead));
    // As if the worker stopped between recording the decision and queueing its action.
    const stored = await app.deps.approvals.get(id, 'approval');
    await app.deps.approvals.replace(id, 'approval', stored?.value as ApprovalEntity, stored?.etag, approvalColumns(stored?.value as ApprovalEntity));
    const queue = await app.deps.storage.queue('containment');
    await queue.clearMessages();

    expect(await expireApprovals(app.deps)).toMatchObject({ requeued: 1 });
    expect((await app.queuedMessages()).filter((m) => m['approvalId'] === id)).toHaveLength(1);
    expect(await expireApprovals(app.deps)).toMatchObject({ requeued: 0 });

    await app.drainQueue();
    expect(app.sim.state.get(DEMO.classicSp)?.accountEnabled).toBe(true);
  });
});
