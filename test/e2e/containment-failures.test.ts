import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/start-simulator';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { graphCalls, lastSeq, seedIncident } from '../helpers/seed-incident';
import { E2E_GRAPH_FEATURES, plannedPermissions } from '../helpers/planned-permissions';

/** A permanent Graph failure fails its step only: the other steps, the ticket and the comment still happen. */
describe('containment when the responder lacks a permission, end to end', () => {
  const stack = useStack();

  it('fails the disable with Graph’s 403, names the missing permission, and still confirms and tickets', async () => {
    // Everything the deployment grants, less every permission Graph accepts for disabling an agent identity (the
    // approvals feature's AgentIdentity.ReadWrite.All is one too).
    const granted = plannedPermissions(E2E_GRAPH_FEATURES).filter((p) => p !== 'AgentIdentity.EnableDisable.All' && p !== 'AgentIdentity.ReadWrite.All');
    stack.sim.setKnobs({ grantedPermissions: granted });
    const id = DEMO.agents.invoice;
    const incident = seedIncident(stack.sim, 1, [{ id, name: 'Contoso Invoice Agent' }]);
    const since = lastSeq(stack.sim);
    const res = await stack.post('/api/alerts', incident.trigger());
    const caseId = String(res.body['caseId']);
    const c = await stack.waitForCase(caseId, settled);

    expect(c.status).toBe('partial');
    const target = c.targets[0];
    expect(target?.status).toBe('failed');
    const disable = target?.steps.find((s) => s.action === 'disable');
    const patches = graphCalls(stack.sim, (x) => x.method === 'PATCH' && x.path.includes(id), since);
    expect(patches.map((x) => x.status)).toEqual([403]);
    expect(disable).toMatchObject({ state: 'failed', errorCode: 'Authorization_RequestDenied', attempts: 1, graphRequestIds: [patches[0]?.requestId] });
    expect(disable?.error).toContain('AgentIdentity.EnableDisable.All');
    expect(target?.reason).toContain('AgentIdentity.EnableDisable.All');
    expect(target?.steps.find((s) => s.action === 'confirm-compromised')?.state).toBe('done');
    expect(stack.sim.state.get(id)).toMatchObject({ accountEnabled: true, riskState: 'confirmedCompromised' });

    const tickets = stack.sim.state.tickets.servicenow.filter((t) => t.fields['correlation_id'] === `agent-responders:${caseId}`);
    expect(tickets).toHaveLength(1);
    expect(tickets[0]?.fields['short_description']).toMatch(/FAILED/);
    expect(tickets[0]?.fields['description']).toContain('AgentIdentity.EnableDisable.All');
    expect(tickets[0]?.fields['description']).toContain('Manual action needed');
    expect(c.caseSteps.map((s) => [s.action, s.state]).sort()).toEqual([
      ['comment', 'done'],
      ['ticket', 'done'],
    ]);
    expect(stack.sim.state.allComments().filter((x) => x.incidentId === incident.armId)).toHaveLength(1);
  });
});
