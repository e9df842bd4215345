import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { decodeKey } from '../../shared/config';
import { issueAntiForgeryToken } from '../../shared/approvals/anti-forgery';
import { decideApproval, viewApproval, type ApprovalFlowDeps } from '../../shared/approvals/approval-flow';
import type { ApprovalEntity } from '../../shared/approvals/approval-entity';
import type { PrincipalCheck } from '../../shared/auth/signed-in-principal';
import { SIGNED_OUT, signedInAs, type Person } from '../helpers/approval-sign-in';
import { requestRelease } from '../../shared/approvals/request-release';
import { approvalLink } from '../../shared/approvals/approval-link';
import type { RenderedPage } from '../../shared/approvals/approval-page';
import { decisionBody, PEOPLE, pageText, parseApprovalLink, readApprovalForm } from '../helpers/approval-form';
import { incidentNaming } from '../helpers/incident-naming';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { loseFirstAnswer } from '../helpers/lose-answer';
import { IdentityOwners } from '../../shared/store/identity-owners';

let app: InProcessApp;

beforeAll(async () => {
  app = await startInProcessApp({ env: { CONTAIN_HUMAN_USERS: 'true' }, throughStorageProxy: true });
});
afterAll(async () => {
  await app?.stop();
});

const approvalOf = (id: string): Promise<ApprovalEntity> => app.approval(id);
/** `who` signed in, verified from an ID token as every request is; `undefined` is nobody. */
const as = (who: Person | undefined): Promise<PrincipalCheck> => (who ? signedInAs(app, who) : Promise.resolve(SIGNED_OUT));

/** The form a person gets by opening the link signed in; fails if the page offers them none. */
async function formFor(link: string, who: Person, deps: ApprovalFlowDeps = app.deps): Promise<{ token: string; af: string }> {
  const { id, token } = parseApprovalLink(link);
  const page = await viewApproval(deps, id, token, await as(who));
  const form = readApprovalForm(page.body);
  if (!form) {
    throw new Error(`no form for ${who.upn ?? who.objectId}: ${page.status} ${pageText(page.body)}`);
  }
  return form;
}

/** A form as if the page had been served to `who` (someone the page refuses must still be refused on POST). */
async function mintedForm(link: string, who: Person): Promise<{ token: string; af: string }> {
  const { id, token } = parseApprovalLink(link);
  const key = decodeKey(app.deps.config.APPROVAL_SIGNING_KEY ?? '');
  return { token, af: issueAntiForgeryToken(key, { approvalId: id, principalId: who.objectId, nonce: (await approvalOf(id)).nonce, now: app.clock.now }) };
}

async function decide(link: string, who: Person, decision: 'approve' | 'reject', opts: { form?: { token: string; af: string }; comment?: string; deps?: ApprovalFlowDeps } = {}): Promise<RenderedPage> {
  const deps = opts.deps ?? app.deps;
  const form = opts.form ?? (await formFor(link, who, deps));
  return decideApproval(deps, parseApprovalLink(link).id, decisionBody(form, decision, opts.comment ?? (decision === 'reject' ? 'not convinced yet' : undefined)), await as(who));
}

/** Contains one identity of the demo tenant through a fresh incident and asks to release it. */
async function containAndAskRelease(n: number, target: { id: string; name: string }, requester: Person, deps = app.deps): Promise<{ caseId: string; link: string; approvalId: string }> {
  const caseId = await app.contain(incidentNaming(n, [target]));
  const res = await requestRelease(deps, caseId, { targetId: target.id, reason: `ticket INC-${n}: false positive` }, await as(requester));
  if (!res.approvalUrl) {
    throw new Error('no approval link');
  }
  return { caseId, link: res.approvalUrl, approvalId: res.approvalId };
}

async function auditActions(caseId: string, approvalId: string): Promise<string[]> {
  return (await app.deps.audit.list(caseId)).filter((e) => e.detail?.startsWith(approvalId) === true).map((e) => e.action);
}

async function queuedFor(approvalId: string): Promise<number> {
  return (await app.queuedMessages()).filter((m) => m['approvalId'] === approvalId).length;
}

describe('asking to release a contained agent', () => {
  it('changes nothing and tells the approvers, by mail, ticket and incident, what will change, who asked, why, until when and who decides', async () => {
    const caseId = await app.containDemoAgent();
    const res = await requestRelease(app.deps, caseId, { targetId: DEMO.agents.invoice, reason: 'Credential rotated; the agent is clean' }, await as(PEOPLE.onCall));

    expect(res).toMatchObject({ status: 'pending', quorum: 1, created: true });
    expect(res.approvalUrl).toMatch(/^https:\/\/responders\.example\/api\/approvals\/[0-9a-f]{24}\?token=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(app.sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(false);

    const link = res.approvalUrl ?? '';
    const { id, token } = parseApprovalLink(link);
    const page = pageText((await viewApproval(app.deps, id, token, await as(PEOPLE.socLead))).body);
    expect(page).toContain('Re-enable agent identity "Contoso Invoice Agent", dismiss its risk in Entra ID Protection');
    expect(page).toContain(`Asked by ${DEMO.approverUpns[2]}: Credential rotated; the agent is clean`);
    expect(page).toContain(`Decide before ${new Date(res.expiresAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    expect(page).toContain('Sam SOC Lead (soc-lead@contoso.example), Morgan Security Manager (sec-manager@contoso.example) or a member of the group Agent Approvers');
    expect(page).toContain('0 of 1 needed');

    const mail = app.sim.state.mail.filter((m) => m.subject.includes('Contoso Invoice Agent'));
    expect(mail).toHaveLength(1);
    expect(mail[0]?.from).toBe(DEMO.mailboxUpn);
    expect([...(mail[0]?.to ?? [])].sort()).toEqual([DEMO.approverUpns[1], DEMO.approverUpns[0]]);
    expect(JSON.stringify(mail[0]?.message)).toContain(link);

    const journal = app.sim.state.tickets.servicenow.flatMap((t) => t.journal.map((j) => String(j.value)));
    expect(journal.some((note) => note.includes(link))).toBe(true);
    expect(app.sim.state.allComments().some((c) => JSON.stringify(c).includes(link))).toBe(true);
  });

  it('announces and audits a request whose approval was stored but whose answer was lost (the retry meets its own row)', async () => {
    const [agentId] = await generateAgents(app, { agents: 1 });
    const caseId = await app.contain(incidentNaming(42, [{ id: agentId ?? '', name: 'Generated agent' }]));
    const { gate, lost } = loseFirstAnswer((req) => req.service === 'table' && req.method === 'POST' && req.shape === '/approvals');
    const requester = await as(PEOPLE.onCall);
    const res = await app.withStorageGate(gate, () => requestRelease(app.deps, caseId, { targetId: agentId ?? '', reason: 'ticket INC-42: false positive' }, requester));
    expect(lost()).toBe(1);
    expect(res).toMatchObject({ status: 'pending', created: true });
    expect((await auditActions(caseId, res.approvalId)).filter((x) => x === 'approval.requested')).toHaveLength(1);
    expect(app.sim.state.mail.filter((m) => JSON.stringify(m.message).includes(res.approvalUrl ?? '?'))).toHaveLength(1);
  });

  it('sends no mail when no mailbox is configured', async () => {
    const quiet = { ...app.deps, config: { ...app.deps.config, APPROVAL_MAIL_SENDER: undefined } };
    const before = app.sim.state.mail.length;
    await containAndAskRelease(2, { id: DEMO.agents.expiring, name: 'Quarter-End Reconciliation Agent' }, PEOPLE.onCall, quiet);
    expect(app.sim.state.mail.length).toBe(before);
  });
});

describe('an approved release', () => {
  it('dismisses the risk in the collection of each kind: riskyUsers for a person, riskyServicePrincipals for an application', async () => {
    const person = await containAndAskRelease(8, { id: DEMO.human, name: 'Dana Sponsor' }, PEOPLE.onCall);
    expect(app.sim.state.get(DEMO.human)?.riskState).toBe('confirmedCompromised');
    const application = incidentNaming(9, [{ id: DEMO.classicSp, name: 'Support Copilot (classic app)' }]);
    const appCase = await app.contain(application);
    const appRelease = await requestRelease(app.deps, appCase, { targetId: DEMO.classicSp, reason: 'owner rotated the secret' }, await as(PEOPLE.onCall));
    await app.drainQueue();

    await decide(person.link, PEOPLE.socLead, 'approve');
    await decide(appRelease.approvalUrl ?? '', PEOPLE.secManager, 'approve');
    await app.drainQueue();

    expect(app.sim.state.get(DEMO.human)?.riskState).toBe('dismissed');
    expect(app.sim.state.get(DEMO.classicSp)).toMatchObject({ accountEnabled: true, riskState: 'dismissed' });
    const dismissals = app.sim.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/dismiss')).map((c) => c.path);
    expect(dismissals).toEqual(expect.arrayContaining(['/v1.0/identityProtection/riskyUsers/dismiss', '/v1.0/identityProtection/riskyServicePrincipals/dismiss']));
    expect((await app.deps.cases.load(person.caseId))?.targets[0]?.status).toBe('released');
  });

  it('keeps the identity contained, and owned by its case, when a guardrail set since refuses the approved release', async () => {
    const [agentId = ''] = await generateAgents(app, { agents: 1 });
    const { caseId, link } = await containAndAskRelease(47, { id: agentId, name: 'Generated agent' }, PEOPLE.onCall);
    await app.drainQueue();
    await decide(link, PEOPLE.socLead, 'approve');
    // The identity is listed in PROTECTED_IDENTITIES after the approval: the responder must not act on it, so it stays
    // disabled, and the case that contained it must keep it (later alerts about it join this case, and it is still
    // its case that says why it is disabled).
    const config = app.deps.config as { PROTECTED_IDENTITIES: string[] };
    const before = config.PROTECTED_IDENTITIES;
    config.PROTECTED_IDENTITIES = [...before, agentId];
    try {
      await app.drainQueue();
    } finally {
      config.PROTECTED_IDENTITIES = before;
    }
    expect(app.sim.state.get(agentId)?.accountEnabled).toBe(false);
    const target = (await app.deps.cases.load(caseId))?.targets.find((t) => t.objectId === agentId);
    expect(target?.status).toBe('contained');
    expect(target?.reason).toContain('Release not performed');
    expect(target?.reason).toContain('PROTECTED_IDENTITIES');
    expect((await app.deps.owners.get(IdentityOwners.identityOf(agentId)))?.value).toMatchObject({ caseId, state: 'contained' });
  });
});

describe('deciding an approval', () => {
  it('decides nothing however often the link is opened, and then takes the decision of an approver reached through a group', async () => {
    const { caseId, link, approvalId } = await containAndAskRelease(3, { id: DEMO.agents.orphan, name: 'Abandoned Research Agent' }, PEOPLE.socLead);
    const { id, token } = parseApprovalLink(link);
    const before = await app.deps.approvals.get(id, 'approval');

    const views = await Promise.all([undefined, PEOPLE.secManager, PEOPLE.onCall, PEOPLE.mailbox, undefined].map(async (who) => viewApproval(app.deps, id, token, await as(who))));
    expect(views.map((v) => v.status)).toEqual([401, 200, 200, 403, 401]);
    const after = await app.deps.approvals.get(id, 'approval');
    expect(after?.etag).toBe(before?.etag);
    expect(after?.value).toEqual(before?.value);
    expect(await queuedFor(approvalId)).toBe(0);
    expect(app.sim.state.get(DEMO.agents.orphan)?.accountEnabled).toBe(false);

    const outsider = await decide(link, PEOPLE.mailbox, 'approve', { form: await mintedForm(link, PEOPLE.mailbox) });
    expect(outsider.status).toBe(403);
    expect((await approvalOf(id)).status).toBe('pending');

    const granted = await decide(link, PEOPLE.onCall, 'approve', { comment: 'checked with the owner' });
    expect(granted.status).toBe(200);
    expect(pageText(granted.body)).toContain('Your approval is recorded. The request is approved');
    expect((await approvalOf(id)).status).toBe('approved');
    expect(await queuedFor(approvalId)).toBe(1);
    expect(await auditActions(caseId, approvalId)).toEqual(expect.arrayContaining(['approval.requested', 'approval.viewed', 'approval.refused', 'approval.approved']));
  });

  it('decides once when two approvers post at the same moment, and shows the loser the outcome', async () => {
    const { caseId, link, approvalId } = await containAndAskRelease(4, { id: DEMO.plainSp, name: 'Payroll Export Service' }, PEOPLE.onCall);
    const [a, b] = await Promise.all([formFor(link, PEOPLE.socLead), formFor(link, PEOPLE.secManager)]);

    const pages = await Promise.all([decide(link, PEOPLE.socLead, 'approve', { form: a }), decide(link, PEOPLE.secManager, 'reject', { form: b, comment: 'not yet' })]);

    const approval = await approvalOf(approvalId);
    expect(approval.decisions).toHaveLength(1);
    expect(['approved', 'rejected']).toContain(approval.status);
    const recorded = pages.filter((p) => pageText(p.body).includes('is recorded'));
    expect(recorded).toHaveLength(1);
    const decisions = (await auditActions(caseId, approvalId)).filter((x) => x === 'approval.approved' || x === 'approval.rejected');
    expect(decisions).toHaveLength(1);
    // Whichever decision won goes to the case once: an approval to run the release, a rejection to record it there.
    expect(await queuedFor(approvalId)).toBe(1);

    const later = await decide(link, PEOPLE.socLead, 'approve', { form: a });
    expect(later.status).toBe(200);
    expect((await approvalOf(approvalId)).decisions).toHaveLength(1);
  });

  it('records, audits and queues once when one approver posts the same decision twice in the same millisecond (a double tap)', async () => {
    const [agentId] = await generateAgents(app, { agents: 1 });
    const { caseId, link, approvalId } = await containAndAskRelease(42, { id: agentId ?? '', name: 'Generated agent' }, PEOPLE.onCall);
    const form = await formFor(link, PEOPLE.socLead);
    // The clock does not move between the two posts: the two decisions are identical but for the post that made them.
    const pages = await Promise.all([decide(link, PEOPLE.socLead, 'approve', { form }), decide(link, PEOPLE.socLead, 'approve', { form })]);
    expect(pages.filter((p) => pageText(p.body).includes('is recorded'))).toHaveLength(1);
    expect((await approvalOf(approvalId)).decisions).toHaveLength(1);
    expect((await auditActions(caseId, approvalId)).filter((x) => x === 'approval.approved')).toHaveLength(1);
    expect(await queuedFor(approvalId)).toBe(1);
  });

  it('records, audits and queues a decision that was stored but whose answer was lost (the retry meets its own write)', async () => {
    // An agent of its own: every demo identity is held by another test's case.
    const [agentId] = await generateAgents(app, { agents: 1 });
    const { caseId, link, approvalId } = await containAndAskRelease(41, { id: agentId ?? '', name: 'Generated agent' }, PEOPLE.onCall);
    const form = await formFor(link, PEOPLE.socLead);
    // The decision's conditional replace: storage applies it, the answer never arrives, the SDK sends it again (412).
    const { gate, lost } = loseFirstAnswer((req) => req.service === 'table' && req.method === 'PUT' && req.shape.startsWith('/approvals('));
    const page = await app.withStorageGate(gate, () => decide(link, PEOPLE.socLead, 'approve', { form }));
    expect(lost()).toBe(1);
    expect(pageText(page.body)).toContain('is recorded');
    expect((await approvalOf(approvalId)).decisions).toHaveLength(1);
    expect((await auditActions(caseId, approvalId)).filter((x) => x === 'approval.approved')).toHaveLength(1);
    expect(await queuedFor(approvalId)).toBe(1);
  });

  it('audits a decision stored but whose answer was lost when the second approver decided before the SDK\'s retry', async () => {
    const [agentId] = await generateAgents(app, { agents: 1 });
    const twoPeople = { ...app.deps, config: { ...app.deps.config, APPROVAL_QUORUM: 2 } };
    const { caseId, link, approvalId } = await containAndAskRelease(43, { id: agentId ?? '', name: 'Generated agent' }, PEOPLE.onCall, twoPeople);
    const [a, b] = await Promise.all([formFor(link, PEOPLE.socLead, twoPeople), formFor(link, PEOPLE.secManager, twoPeople)]);
    // The first approval is stored and its answer lost; before the SDK sends it again, the second approver decides
    // on top of it (the gate runs that whole decision before it forwards the retry).
    let puts = 0;
    const gate = async (req: { service: string; method: string; shape: string }): Promise<'forward' | 'lose-answer'> => {
      if (req.service !== 'table' || req.method !== 'PUT' || !req.shape.startsWith('/approvals(')) {
        return 'forward';
      }
      puts++;
      if (puts === 1) {
        return 'lose-answer';
      }
      if (puts === 2) {
        expect(pageText((await decide(link, PEOPLE.secManager, 'approve', { form: b, deps: twoPeople })).body)).toContain('is recorded');
      }
      return 'forward';
    };
    const page = await app.withStorageGate(gate, () => decide(link, PEOPLE.socLead, 'approve', { form: a, deps: twoPeople }));
    const approval = await approvalOf(approvalId);
    expect(approval.status).toBe('approved');
    expect(approval.decisions.map((d) => d.by).sort()).toEqual([DEMO.approvers[0], DEMO.approvers[1]].sort());
    // Both decisions count, so both are audited, and the first approver is not told otherwise.
    expect((await app.deps.audit.list(caseId)).filter((e) => e.action === 'approval.approved').map((e) => e.actor).sort()).toEqual([DEMO.approvers[0], DEMO.approvers[1]].sort());
    expect(pageText(page.body)).toContain('is recorded');
    expect(await queuedFor(approvalId)).toBe(1);
  });

  it('counts two different approvers for a two-approval request even when they post together', async () => {
    const twoPeople = { ...app.deps, config: { ...app.deps.config, APPROVAL_QUORUM: 2 } };
    const { link, approvalId } = await containAndAskRelease(5, { id: DEMO.classicSp, name: 'Support Copilot (classic app)' }, PEOPLE.onCall, twoPeople);
    expect((await approvalOf(approvalId)).quorum).toBe(2);
    const [a, b] = await Promise.all([formFor(link, PEOPLE.socLead), formFor(link, PEOPLE.secManager)]);

    await Promise.all([decide(link, PEOPLE.socLead, 'approve', { form: a }), decide(link, PEOPLE.secManager, 'approve', { form: b })]);

    const approval = await approvalOf(approvalId);
    expect(approval.status).toBe('approved');
    expect(approval.decisions.map((d) => d.by).sort()).toEqual([DEMO.approvers[0], DEMO.approvers[1]]);
    expect(await queuedFor(approvalId)).toBe(1);
  });

  it('needs two different approvers to release a blueprint principal, and one to contain it', async () => {
    const blueprint = { id: DEMO.blueprintPrincipal, name: 'Contoso Finance Agent Blueprint' };
    const caseId = await app.contain(incidentNaming(6, [blueprint]));
    const held = (await app.deps.cases.load(caseId))?.targets.find((t) => t.objectId === DEMO.blueprintPrincipal);
    expect(held?.status).toBe('held');
    const hold = await approvalOf(held?.approvalId ?? '');
    expect(hold.quorum).toBe(1);
    expect(app.sim.state.get(DEMO.blueprintPrincipal)?.accountEnabled).toBe(true);

    await decide(approvalLink(app.deps.config, hold) ?? '', PEOPLE.socLead, 'approve');
    await app.drainQueue();
    expect(app.sim.state.get(DEMO.blueprintPrincipal)?.accountEnabled).toBe(false);
    expect((await app.deps.cases.load(caseId))?.targets.find((t) => t.objectId === DEMO.blueprintPrincipal)?.status).toBe('contained');

    const release = await requestRelease(app.deps, caseId, { targetId: DEMO.blueprintPrincipal, reason: 'blueprint reviewed' }, await as(PEOPLE.onCall));
    expect(release.quorum).toBe(2);
    const link = release.approvalUrl ?? '';
    const first = await decide(link, PEOPLE.socLead, 'approve');
    expect(pageText(first.body)).toContain('1 of 2 approvals so far; waiting for 1 more person');
    expect(await queuedFor(release.approvalId)).toBe(0);
    const again = await decide(link, PEOPLE.socLead, 'approve', { form: await mintedForm(link, PEOPLE.socLead) });
    expect(again.status).toBe(409);
    expect((await approvalOf(release.approvalId)).status).toBe('pending');

    await decide(link, PEOPLE.secManager, 'approve');
    expect((await approvalOf(release.approvalId)).status).toBe('approved');
    await app.drainQueue();
    expect(app.sim.state.get(DEMO.blueprintPrincipal)?.accountEnabled).toBe(true);
  });
});

describe('separation of duties', () => {
  it('refuses the sponsor of the agent even when the sponsor is on the approvers list', async () => {
    const withSponsor = { ...app.deps, config: { ...app.deps.config, APPROVERS: [...app.deps.config.APPROVERS, DEMO.human] } };
    const { link, approvalId } = await containAndAskRelease(7, { id: DEMO.agents.expired, name: 'Legacy Expense Agent' }, PEOPLE.onCall, withSponsor);
    const { id, token } = parseApprovalLink(link);

    // The Legacy Expense Agent is sponsored by the SOC lead, an approver.
    const page = await viewApproval(withSponsor, id, token, await as(PEOPLE.socLead));
    expect(page.status).toBe(403);
    expect(pageText(page.body)).toContain('separation of duties');
    const posted = await decide(link, PEOPLE.socLead, 'approve', { form: await mintedForm(link, PEOPLE.socLead), deps: withSponsor });
    expect(posted.status).toBe(403);
    expect(await approvalOf(approvalId)).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('keeps one live link per release, and refuses the human sponsor and owner, the requester and the responder itself', async () => {
    const withDana = { ...app.deps, config: { ...app.deps.config, APPROVERS: [...app.deps.config.APPROVERS, DEMO.human] } };
    const caseId = await app.containDemoAgent();
    const first = await requestRelease(withDana, caseId, { targetId: DEMO.agents.invoice, reason: 'Credential rotated; the agent is clean' }, await as(PEOPLE.onCall));
    const second = await requestRelease(withDana, caseId, { targetId: DEMO.agents.invoice, reason: 'asking again' }, await as(PEOPLE.secManager));
    expect(second).toMatchObject({ approvalId: first.approvalId, approvalUrl: first.approvalUrl, created: false });

    const link = first.approvalUrl ?? '';
    // The responder cannot sign in as a person; it is excluded all the same.
    expect((await approvalOf(first.approvalId)).excluded).toContain(DEMO.responder.objectId);
    for (const who of [PEOPLE.sponsor, PEOPLE.onCall]) {
      const page = await decide(link, who, 'approve', { form: await mintedForm(link, who), deps: withDana });
      expect(page.status, who.upn).toBe(403);
      expect(pageText(page.body)).toContain('separation of duties');
    }
    expect(await approvalOf(first.approvalId)).toMatchObject({ status: 'pending', decisions: [] });
  });
});
