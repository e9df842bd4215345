import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { decideApproval, viewApproval } from '../../shared/approvals/approval-flow';
import type { ApprovalEntity } from '../../shared/approvals/approval-entity';
import { RecordTable } from '../../shared/store/record-table';
import { TABLES } from '../../shared/store/storage';
import type { CaseRecord } from '../../shared/store/case-model';
import { SWEEP_AUDIT_SCOPE, type SweepSummary } from '../../shared/lifecycle/run-lifecycle-sweep';
import { decisionBody, parseApprovalLink, PEOPLE, readApprovalForm } from '../helpers/approval-form';
import { signedInAs } from '../helpers/approval-sign-in';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents, graphWrites, lifecycleExpectations, sweep, ticketKeys, warnings, ymd } from '../helpers/lifecycle-tenant';

const DAY = 86_400_000;

/** A classic service principal marked as an agent by its tag, three days past its end date. */
const CLASSIC_AGENT = 'c1a55000-0000-4000-8000-0000000000e1';

describe('lifecycle sweep (enforce) over a seeded tenant of a few hundred agents', () => {
  let app: InProcessApp;
  let first: SweepSummary;
  let expected: ReturnType<typeof lifecycleExpectations>;

  beforeAll(async () => {
    app = await startInProcessApp({
      env: { LIFECYCLE_EXPIRY_ATTRIBUTE: 'AgentLifecycle.ExpiresOn', LIFECYCLE_DELETE_ENABLED: 'true', PROTECTED_IDENTITIES: DEMO.agents.expired, BLAST_RADIUS_PER_HOUR: '1000' },
    });
    await generateAgents(app, { agents: 300, expiredFraction: 0.1, expiringFraction: 0.1, orphanFraction: 0.05 });
    app.sim.state.addSeed({
      servicePrincipals: [
        {
          id: CLASSIC_AGENT,
          '@odata.type': '#microsoft.graph.servicePrincipal',
          appId: 'c1a5a000-0000-4000-8000-0000000000e1',
          displayName: 'Helpdesk Bot (classic app)',
          accountEnabled: true,
          servicePrincipalType: 'Application',
          appOwnerOrganizationId: DEMO.tenantId,
          tags: ['agent', `agent-expires:${ymd(app.clock.now - 3 * DAY)}`],
          owners: [DEMO.human],
          sponsors: [],
        },
      ],
    });
    // The blueprint principal expired yesterday: disabling it disables every agent of the blueprint.
    const blueprint = app.sim.state.get(DEMO.blueprintPrincipal);
    if (blueprint) {
      blueprint['tags'] = [`agent-expires:${ymd(app.clock.now - DAY)}`];
    }
    expected = lifecycleExpectations(app);
    first = await sweep(app);
    await app.drainQueue();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('sees every agent once and counts every rule in its summary', () => {
    expect(expected.all).toHaveLength(307);
    expect(first).toMatchObject({
      outcome: 'done',
      mode: 'enforce',
      agentsSeen: expected.all.length,
      expiring: expected.expiring.length,
      expired: expected.expired.length,
      pastGrace: expected.pastGrace.length,
      orphaned: expected.orphans.length,
      protected: 1,
      errors: 0,
    });
    expect(first.actions).toEqual({
      warned: expected.expiring.length,
      disableCases: expected.expired.length - 1,
      deleteCases: expected.pastGrace.length - 1,
      orphanTickets: expected.orphans.length,
      total: expected.expiring.length + expected.expired.length - 1 + expected.pastGrace.length - 1 + expected.orphans.length,
    });
    expect(expected.pastGrace.length).toBeGreaterThan(1);
    expect(expected.orphans.length).toBeGreaterThan(10);
  });

  it('reads 100 agents a page and sponsors and owners in $batch calls of 20, never one call per agent', () => {
    // 307 agents: agent identities 100 + 100 + 100 + 4, the blueprint principal, two tagged classic SPs.
    expect(first.pages).toBe(6);
    expect(first.graphRequests.pages).toBe(6);
    expect(first.graphRequests.batches).toBe(10 + 10 + 10 + 1 + 1 + 1);
    const sponsorCalls = app.sim.calls.filter((c) => c.batchId === undefined && /\/(sponsors|owners)$/.test(c.path));
    expect(sponsorCalls).toEqual([]);
  });

  it('disables every expired agent through a case of kind expiry, except the protected one', async () => {
    for (const id of expected.expired) {
      const obj = app.sim.state.get(id);
      if (id === DEMO.agents.expired) {
        expect(obj?.accountEnabled).toBe(true);
      } else if (id === DEMO.blueprintPrincipal) {
        expect(obj?.accountEnabled).toBe(true); // held for approval
      } else {
        expect(obj?.accountEnabled, id).toBe(false);
      }
    }
    const cases = await app.deps.cases.casesWithStatus('done', 5000);
    const expiry = cases.filter((c) => c.kind === 'expiry' && c.dedupeKey.startsWith('lifecycle:expire|'));
    expect(expiry).toHaveLength(expected.expired.length - 2);
    const classic = expiry.find((c) => c.dedupeKey.includes(CLASSIC_AGENT));
    expect(classic?.source).toBe('lifecycle');
    const bundle = await app.deps.cases.load(classic?.caseId ?? '');
    expect(bundle?.targets[0]).toMatchObject({ objectId: CLASSIC_AGENT, kind: 'servicePrincipal', status: 'contained' });
    expect(bundle?.steps.map((s) => [s.action, s.state]).sort()).toEqual([
      ['disable', 'done'],
      ['notify-sponsors', 'done'],
      ['ticket', 'done'],
    ]);
    expect(ticketKeys(app)).toContain(`agent-responders:${classic?.caseId ?? ''}`);
    const told = app.sim.state.mail.filter((m) => m.subject.includes('Helpdesk Bot (classic app) was disabled'));
    expect(told.map((m) => m.to)).toEqual([[DEMO.humanUpn]]);
  });

  it('holds the disable of an expired blueprint principal for approval', async () => {
    const held = await app.deps.cases.casesWithStatus('held', 5000);
    const blueprintCase = held.find((c) => c.dedupeKey.startsWith(`lifecycle:expire|${DEMO.blueprintPrincipal}|`));
    const bundle = await app.deps.cases.load(blueprintCase?.caseId ?? '');
    expect(bundle?.targets[0]?.status).toBe('held');
    expect(bundle?.steps.find((s) => s.action === 'disable')?.state).toBe('held');
  });

  it('warns the sponsors and owners of each expiring agent once', () => {
    const sent = warnings(app);
    expect(sent).toHaveLength(expected.expiring.length);
    const expiring = app.sim.state.get(DEMO.agents.expiring);
    const demoWarning = sent.find((m) => m.subject.includes(String(expiring?.displayName)));
    expect(demoWarning?.to).toEqual([DEMO.humanUpn]);
    expect(demoWarning?.from).toBe(DEMO.mailboxUpn);
  });

  it('opens one ticket per orphaned agent', () => {
    const keys = ticketKeys(app);
    for (const id of expected.orphans) {
      expect(keys.filter((k) => k === `agent-responders:orphan:${id}`)).toHaveLength(1);
    }
    expect(keys.filter((k) => k.startsWith('agent-responders:orphan:'))).toHaveLength(expected.orphans.length);
  });

  it('holds the deletion of agents past the grace period for approval, and deletes one once approved', async () => {
    const approvals = new RecordTable<ApprovalEntity>(await app.deps.storage.table(TABLES.approvals));
    const held = (await app.deps.cases.casesWithStatus('held', 5000)).filter((c) => c.dedupeKey.startsWith('lifecycle:delete|'));
    expect(held).toHaveLength(expected.pastGrace.length - 1);
    const victim = held.find((c) => !c.dedupeKey.includes(DEMO.agents.expired)) as CaseRecord;
    const bundle = await app.deps.cases.load(victim.caseId);
    const target = bundle?.targets[0];
    expect(target?.status).toBe('held');
    const approval = (await approvals.get(target?.approvalId ?? '', 'approval'))?.value;
    expect(approval).toMatchObject({ kind: 'lifecycle-delete', status: 'pending' });
    expect(app.sim.state.get(target?.objectId ?? '')?.deleted).toBeFalsy();

    // The approver opens the link from the ticket and approves; the granted action runs from the queue.
    const ticket = app.sim.state.tickets.servicenow.find((t) => t.fields['correlation_id'] === `agent-responders:${victim.caseId}`);
    const link = /https:\/\/responders\.example\/api\/approvals\/\S+/.exec(String(ticket?.fields['description']))?.[0] ?? '';
    const { id, token } = parseApprovalLink(link);
    const page = await viewApproval(app.deps, id, token, await signedInAs(app, PEOPLE.secManager));
    const form = readApprovalForm(page.body);
    expect(form).toBeDefined();
    await decideApproval(app.deps, id, decisionBody(form ?? { token: '', af: '' }, 'approve'), await signedInAs(app, PEOPLE.secManager));
    await app.drainQueue();

    expect(app.sim.state.get(target?.objectId ?? '')?.deleted).toBe(true);
    const after = await app.deps.cases.load(victim.caseId);
    expect(after?.record.status).toBe('done');
    expect(after?.targets[0]?.status).toBe('deleted');
    expect(after?.steps.find((s) => s.action === 'delete')?.state).toBe('done');
    const deletes = app.sim.calls.filter((c) => c.method === 'DELETE').map((c) => c.path);
    expect(deletes).toEqual([`/v1.0/servicePrincipals/${target?.objectId ?? ''}/microsoft.graph.agentIdentity`]);
  });

  it('writes its summary to the audit table', async () => {
    const entries = await app.deps.audit.list(SWEEP_AUDIT_SCOPE);
    const done = entries.filter((e) => e.action === 'lifecycle.sweep');
    expect(done.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(done[0]?.detail ?? '{}')).toMatchObject({ sweepId: first.sweepId, agentsSeen: expected.all.length, errors: 0 });
  });

  it('acts on nothing again in a second sweep', async () => {
    const mails = app.sim.state.mail.length;
    const tickets = app.sim.state.tickets.servicenow.length;
    const writesBefore = graphWrites(app).length;
    const second = await sweep(app);
    expect(second.sweepId).not.toBe(first.sweepId);
    expect(second).toMatchObject({ outcome: 'done', agentsSeen: expected.all.length - 1, errors: 0 });
    expect(second.actions.total).toBe(0);
    expect(second.alreadyHandled).toBeGreaterThan(0);
    expect(await app.queuedMessages()).toEqual([]);
    expect(app.sim.state.mail.length).toBe(mails);
    expect(app.sim.state.tickets.servicenow.length).toBe(tickets);
    expect(graphWrites(app)).toHaveLength(writesBefore);
  });

  it('neither calls orphaned nor gives up warning an agent whose sponsors could not be read, and warns it next time', async () => {
    const [id] = await generateAgents(app, { agents: 1, expiringFraction: 1 });
    app.sim.addFault({ method: 'GET', path: `/servicePrincipals/${id ?? ''}/microsoft.graph.agentIdentity/sponsors$`, status: 403, times: 1 });
    const failed = await sweep(app);
    // One error for the unread list, one for the warning it could not send yet; the agent is not an orphan.
    expect(failed).toMatchObject({ outcome: 'done', expiring: expected.expiring.length + 1, orphaned: expected.orphans.length, errors: 2 });
    expect(failed.actions.total).toBe(0);
    expect(ticketKeys(app)).not.toContain(`agent-responders:orphan:${id ?? ''}`);

    const next = await sweep(app);
    expect(next).toMatchObject({ expiring: expected.expiring.length + 1, errors: 0 });
    expect(next.actions).toMatchObject({ warned: 1, total: 1 });
    expect(warnings(app).filter((m) => m.subject.includes(String(app.sim.state.get(id ?? '')?.displayName)))).toHaveLength(1);
  });
});
