import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { graphWrites, lastSeq, seedIncident } from '../helpers/seed-incident';

/**
 * The settings an attacker (or a hurried deployment) would turn off cannot turn off what protects people and the
 * tenant: with verification at the source switched off, a direct request still waits for an approver; an incident
 * below MIN_INCIDENT_SEVERITY acts on nobody; a human user is left alone unless CONTAIN_HUMAN_USERS says otherwise.
 */
describe('safe defaults hold whatever the verification settings say', () => {
  const stack = useStack({ env: { SENTINEL_VERIFY: 'false', MIN_INCIDENT_SEVERITY: 'Medium', BLAST_RADIUS_PER_HOUR: '1000' } });

  it('holds a direct request for approval with SENTINEL_VERIFY off, and touches nothing but the approvers\' mail', async () => {
    const since = lastSeq(stack.sim);
    const res = await stack.post('/api/alerts', { targets: [{ id: DEMO.agents.invoice }], reason: 'analyst saw token theft' });
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('held');
    expect(c.targets[0]).toMatchObject({ status: 'held', approvalId: expect.stringMatching(/^[0-9a-f]{24}$/) as unknown });
    // The only Graph write is the approval mail to the approvers.
    expect(graphWrites(stack.sim, since).filter((w) => !w.endsWith('/sendMail'))).toEqual([]);
    expect(stack.sim.state.get(DEMO.agents.invoice)).toMatchObject({ accountEnabled: true });
  });

  it('acts on nobody an incident below MIN_INCIDENT_SEVERITY names, and says why on the case', async () => {
    const since = lastSeq(stack.sim);
    const incident = seedIncident(stack.sim, 1, [{ id: DEMO.agents.expiring, name: 'Expiring agent' }], { severity: 'Low' });
    const res = await stack.post('/api/alerts', incident.trigger());
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.targets[0]?.status).toBe('skipped');
    expect(JSON.stringify(c)).toContain('below MIN_INCIDENT_SEVERITY (Medium)');
    expect(graphWrites(stack.sim, since)).toEqual([]);
    expect(stack.sim.state.get(DEMO.agents.expiring)).toMatchObject({ accountEnabled: true });
  });

  it('contains the agent a Medium incident names, and leaves the human user it also names alone (CONTAIN_HUMAN_USERS off)', async () => {
    const since = lastSeq(stack.sim);
    const incident = seedIncident(stack.sim, 2, [{ id: DEMO.agents.orphan, name: 'Orphan agent' }, { upn: DEMO.humanUpn }], { severity: 'Medium' });
    const res = await stack.post('/api/alerts', incident.trigger());
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    const statuses = Object.fromEntries(c.targets.map((t) => [t.objectId ?? t.key, t.status]));
    expect(statuses[DEMO.agents.orphan]).toBe('contained');
    const writes = graphWrites(stack.sim, since);
    expect(writes.some((w) => w.includes(DEMO.agents.orphan))).toBe(true);
    // No confirmCompromised on riskyUsers and no session revocation: the person is not touched.
    expect(writes.filter((w) => w.includes('riskyUsers') || w.includes('revokeSignInSessions'))).toEqual([]);
    expect(stack.sim.state.get(DEMO.human)).toMatchObject({ accountEnabled: true });
  });
});
