import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { generateAgents } from '../../dev/simulator/generate-agents';
import { approvalColumns } from '../../shared/approvals/approval-columns';
import { approvalsOf, decideOnPage, linkIn } from '../helpers/approval-http';
import { graphCalls, seedIncident, type NamedEntity } from '../helpers/seed-incident';
import { settled, type CaseJson } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

/**
 * Issue 14's dead ends: a case that can no longer act on an identity (a report-only pilot, a poisoned case, a hold
 * rejected or expired) must give the identity up, so a new incident about it acts instead of joining the dead case;
 * and a hold nobody in Sentinel backs (an alert) must not keep a verified incident from acting.
 */
describe('cases that can no longer act never capture an identity, end to end through the local host', () => {
  // Starts as a report-only pilot; the first test switches it to enforce, as an operator does after the pilot.
  const stack = useStack({ env: { RESPONDER_MODE: 'report-only', REQUIRE_APPROVAL_IDENTITIES: [DEMO.agents.expired, DEMO.agents.expiring].join(',') } });

  async function enforce(): Promise<void> {
    if (stack.env['RESPONDER_MODE'] !== 'enforce') {
      stack.env['RESPONDER_MODE'] = 'enforce';
      await stack.restartHost();
    }
  }
  async function post(n: number, named: NamedEntity[]): Promise<string> {
    const res = await stack.post('/api/alerts', seedIncident(stack.sim, n, named).trigger());
    expect(res.status).toBe(202);
    return String(res.body['caseId']);
  }
  const disables = (id: string) => graphCalls(stack.sim, (c) => c.method === 'PATCH' && c.path.includes(id) && c.status < 300).length;
  /** The approval link the case's ticket carries. */
  function linkOf(caseId: string): string {
    const texts = stack.sim.state.tickets.servicenow.filter((t) => String(t.fields['correlation_id']).startsWith(`agent-responders:${caseId}`)).flatMap((t) => [JSON.stringify(t.fields['description'] ?? ''), ...t.journal.map((j) => String(j.value))]);
    const link = linkIn(texts.join('\n'), stack.url);
    if (!link) {
      throw new Error(`no approval link on the ticket of case ${caseId}`);
    }
    return link;
  }

  /**
   * A new incident `n` about the agent of a dead hold (`first`) is held with an approval of its own, not joined to
   * the dead case; once `approver` approves, the agent is contained.
   */
  async function expectHeldAgainThenContained(n: number, agent: { id: string; name: string }, first: CaseJson, approver: string): Promise<void> {
    const again = await stack.waitForCase(await post(n, [agent]), settled);
    expect(again.targets[0]).toMatchObject({ status: 'held' });
    expect(again.targets[0]?.approvalId).toBeDefined();
    expect(again.targets[0]?.approvalId).not.toBe(first.targets[0]?.approvalId);
    expect(await decideOnPage(stack, linkOf(again.caseId), approver, 'approve')).toContain('The request is approved');
    await stack.waitForCase(again.caseId, (c) => c.targets[0]?.status === 'contained');
    expect(stack.sim.state.get(agent.id)?.accountEnabled).toBe(false);
  }

  it('contains an agent a report-only pilot only planned, once the responder runs in enforce mode', async () => {
    const agent = DEMO.agents.invoice;
    const pilot = await stack.waitForCase(await post(1, [{ id: agent, name: 'Contoso Invoice Agent' }]), settled);
    expect(pilot.mode).toBe('report-only');
    expect(pilot.targets[0]?.status).not.toBe('contained');
    expect(stack.sim.state.get(agent)?.accountEnabled).toBe(true);
    expect(disables(agent)).toBe(0);

    await enforce();
    const c = await stack.waitForCase(await post(2, [{ id: agent, name: 'Contoso Invoice Agent' }]), settled);
    expect(c.mode).toBe('enforce');
    expect(c.targets[0]).toMatchObject({ objectId: agent, status: 'contained' });
    expect(stack.sim.state.get(agent)?.accountEnabled).toBe(false);
    expect(disables(agent)).toBe(1);
  });

  it('holds again, with an approval of its own, an identity whose earlier hold was rejected; approving it contains', async () => {
    await enforce();
    const agent = DEMO.agents.expired;
    const first = await stack.waitForCase(await post(3, [{ id: agent, name: 'Legacy Expense Agent' }]), settled);
    expect(first.targets[0]?.status).toBe('held');
    expect(await decideOnPage(stack, linkOf(first.caseId), DEMO.approvers[1], 'reject', 'not now')).toContain('Your rejection is recorded');
    await stack.waitForCase(first.caseId, (c) => c.targets[0]?.status === 'rejected');

    await expectHeldAgainThenContained(4, { id: agent, name: 'Legacy Expense Agent' }, first, DEMO.approvers[1]);
  });

  it('holds again, with an approval of its own, an identity whose earlier hold expired undecided', async () => {
    await enforce();
    const agent = DEMO.agents.expiring;
    const first = await stack.waitForCase(await post(5, [{ id: agent, name: 'Quarter-End Reconciliation Agent' }]), settled);
    expect(first.targets[0]?.status).toBe('held');
    // Its deadline passes (moved into the past), and the approvals timer runs.
    const approvals = await approvalsOf(stack);
    const stored = await approvals.get(first.targets[0]?.approvalId ?? '', 'approval');
    if (!stored) {
      throw new Error('the held target has no stored approval');
    }
    const lapsed = { ...stored.value, expiresAt: Date.now() - 60_000 };
    await approvals.replace(stored.partitionKey, stored.rowKey, lapsed, stored.etag, approvalColumns(lapsed));
    const run = await fetch(`${stack.url}/admin/functions/approvals-expire?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(run.status).toBeLessThan(300);
    await expect.poll(async () => (await approvals.get(stored.partitionKey, stored.rowKey))?.value.status, { timeout: 10_000 }).toBe('expired');
    await stack.waitForCase(first.caseId, (c) => c.targets[0]?.status !== 'held');

    await expectHeldAgainThenContained(6, { id: agent, name: 'Quarter-End Reconciliation Agent' }, first, DEMO.approvers[0]);
  });

  it('contains, on a verified incident, an agent an alert holds for approval; the held alert ends joined', async () => {
    await enforce();
    const agent = DEMO.agents.orphan;
    const alert = {
      SystemAlertId: 'dddddddd-0000-4000-8000-0000000de4d1',
      AlertDisplayName: 'Agent identity signed in from an anonymising proxy',
      Severity: 'High',
      WorkspaceSubscriptionId: DEMO.workspace.subscriptionId,
      WorkspaceResourceGroup: DEMO.workspace.resourceGroup,
      Entities: [{ $id: '2', Type: 'account', Name: 'Abandoned Research Agent', AadUserId: agent, AadTenantId: DEMO.tenantId }],
    };
    const heldRes = await stack.post('/api/alerts', alert);
    const held = await stack.waitForCase(String(heldRes.body['caseId']), settled);
    expect(held.targets[0]?.status).toBe('held');

    const c = await stack.waitForCase(await post(7, [{ id: agent, name: 'Abandoned Research Agent' }]), settled);
    expect(c.targets[0]).toMatchObject({ objectId: agent, status: 'contained' });
    expect(stack.sim.state.get(agent)?.accountEnabled).toBe(false);
    const after = await stack.waitForCase(held.caseId, (x) => x.targets[0]?.status === 'joined');
    expect(after.targets[0]?.reason).toContain(c.caseId);
  });

  it('contains, on a new incident, an agent whose earlier case was poisoned (failed)', { timeout: 90_000 }, async () => {
    await enforce();
    const [agent = ''] = generateAgents(stack.sim.state, { agents: 1 }).ids;
    // Graph refuses the resolve for good on each of the 5 deliveries: the message goes to the poison queue.
    stack.sim.addFault({ method: 'POST', path: '/directoryObjects/getByIds$', status: 400, times: 5 });
    const poisoned: CaseJson = await stack.waitForCase(await post(8, [{ id: agent, name: 'Generated Agent' }]), (x) => x.status === 'failed', 60_000);
    expect(poisoned.targets[0]?.status).toBe('failed');
    expect(stack.sim.state.get(agent)?.accountEnabled).toBe(true);

    const c = await stack.waitForCase(await post(9, [{ id: agent, name: 'Generated Agent' }]), settled);
    expect(c.targets[0]).toMatchObject({ objectId: agent, status: 'contained' });
    expect(stack.sim.state.get(agent)?.accountEnabled).toBe(false);
  });
});
