import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { deterministicGuid } from '../../shared/store/deterministic-guid';
import { lifecycleCaseKey } from '../../shared/lifecycle/lifecycle-case';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

describe('the lifecycle-sweep timer, end to end through the local host', () => {
  const stack = useStack({ env: { LIFECYCLE_EXPIRY_ATTRIBUTE: 'AgentLifecycle.ExpiresOn' } });

  it('disables the expired agent through a case, warns the expiring agent’s sponsor and tickets the orphan', async () => {
    const run = await fetch(`${stack.url}/admin/functions/lifecycle-sweep?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(run.status).toBe(200);

    // The demo agent tagged `agent-expires:2026-01-31`: its case id follows from the agent and the end date.
    const caseId = deterministicGuid(lifecycleCaseKey('expire', DEMO.agents.expired, '2026-01-31'));
    const c = await stack.waitForCase(caseId, settled);
    expect(c.status).toBe('done');
    const target = c.targets[0];
    expect(target).toMatchObject({ objectId: DEMO.agents.expired, kind: 'agentIdentity', status: 'contained' });
    expect(target?.steps.map((s) => [s.action, s.state]).sort()).toEqual([
      ['disable', 'done'],
      ['notify-sponsors', 'done'],
    ]);
    expect(c.caseSteps.map((s) => [s.action, s.state])).toEqual([['ticket', 'done']]);
    const agent = (await (await fetch(`${stack.sim.url}/_sim/objects/${DEMO.agents.expired}`)).json()) as { accountEnabled: boolean };
    expect(agent.accountEnabled).toBe(false);

    const mail = ((await (await fetch(`${stack.sim.url}/_sim/mail`)).json()) as { value: { subject: string; to: string[] }[] }).value;
    const warning = mail.find((m) => m.subject.includes('Quarter-End Reconciliation Agent reaches its end of lifecycle'));
    expect(warning?.to).toEqual([DEMO.humanUpn]);
    expect(mail.some((m) => m.subject.includes('Legacy Expense Agent was disabled'))).toBe(true);

    const tickets = ((await (await fetch(`${stack.sim.url}/_sim/tickets`)).json()) as { servicenow: { correlation_id: string }[] }).servicenow;
    const keys = tickets.map((t) => t.correlation_id);
    expect(keys).toContain(`agent-responders:orphan:${DEMO.agents.orphan}`);
    expect(keys).toContain(`agent-responders:${caseId}`);
  });
});
