import { describe, expect, it } from 'vitest';
import { belowMinimumSeverity, checkGuardrails } from '../../../shared/plans/guardrails';
import type { IdentityKind } from '../../../shared/graph/identity-kind';
import type { TargetRecord } from '../../../shared/store/case-model';

const ID = 'a9e00000-0000-4000-8000-000000000001';
const RESPONDER = 'a0000000-0000-4000-8000-000000000001';

function target(kind: IdentityKind, extra: Partial<TargetRecord> = {}): TargetRecord {
  return { key: `oid:${ID}`, ref: { by: 'objectId', objectId: ID }, plan: 'contain', round: 0, status: 'pending', objectId: ID, kind, receivedAt: '2026-11-20T09:00:00.000Z', ...extra };
}

const config = { PROTECTED_IDENTITIES: ['c1a55000-0000-4000-8000-000000000002'], REQUIRE_APPROVAL_IDENTITIES: ['c1a5a000-0000-4000-8000-000000000009'], CONTAIN_HUMAN_USERS: false };

describe('checkGuardrails', () => {
  const run = (t: TargetRecord, over: { responderId?: string; unverifiable?: boolean; approved?: boolean; humans?: boolean } = {}) =>
    checkGuardrails({ target: t, responderId: over.responderId ?? RESPONDER, config: { ...config, CONTAIN_HUMAN_USERS: over.humans ?? false }, unverifiable: over.unverifiable ?? false, approved: over.approved ?? false });

  it('lets an ordinary agent through', () => {
    expect(run(target('agentIdentity'))).toEqual({ action: 'run' });
    expect(run(target('agentUser'))).toEqual({ action: 'run' });
  });

  it('never acts on the responder, Microsoft first-party principals or protected identities, even when approved', () => {
    expect(run(target('servicePrincipal', { objectId: RESPONDER }), { approved: true }).action).toBe('skip');
    expect(run(target('servicePrincipal', { appId: RESPONDER }), { approved: true }).action).toBe('skip');
    expect(run(target('servicePrincipal', { appOwnerOrganizationId: 'f8cdef31-a31e-4b4a-93e4-5f571e91255a' }), { approved: true }).action).toBe('skip');
    expect(run(target('servicePrincipal', { appOwnerOrganizationId: '72f988bf-86f1-41af-91ab-2d7cd011db47' })).action).toBe('skip');
    expect(run(target('servicePrincipal', { objectId: 'c1a55000-0000-4000-8000-000000000002' }), { approved: true }).action).toBe('skip');
    expect(run(target('servicePrincipal', { appId: 'c1a55000-0000-4000-8000-000000000002' })).action).toBe('skip');
  });

  it('does not act on a person unless CONTAIN_HUMAN_USERS is on, approved or not', () => {
    const verdict = run(target('user'), { approved: true });
    expect(verdict.action).toBe('skip');
    expect(verdict.action === 'skip' ? verdict.reason : '').toContain('CONTAIN_HUMAN_USERS');
    expect(run(target('user'), { humans: true }).action).toBe('run');
    // An agent's own user account is not a person.
    expect(run(target('agentUser'), { humans: false }).action).toBe('run');
  });

  it('holds blueprint principals, identities requiring approval and what Sentinel cannot back, unless approved', () => {
    expect(run(target('agentBlueprintPrincipal')).action).toBe('hold');
    expect(run(target('servicePrincipal', { appId: 'c1a5a000-0000-4000-8000-000000000009' })).action).toBe('hold');
    expect(run(target('servicePrincipal', { objectId: 'c1a5a000-0000-4000-8000-000000000009' })).action).toBe('hold');
    expect(run(target('agentIdentity'), { unverifiable: true }).action).toBe('hold');
    expect(run(target('agentBlueprintPrincipal'), { approved: true }).action).toBe('run');
    expect(run(target('agentIdentity'), { unverifiable: true, approved: true }).action).toBe('run');
  });
});

describe('belowMinimumSeverity', () => {
  it('refuses exactly the severities below the minimum', () => {
    expect(belowMinimumSeverity('Informational', 'Low')).toContain('MIN_INCIDENT_SEVERITY');
    expect(belowMinimumSeverity('Low', 'Low')).toBeUndefined();
    expect(belowMinimumSeverity('Medium', 'High')).toContain('Medium');
    expect(belowMinimumSeverity('High', 'High')).toBeUndefined();
    expect(belowMinimumSeverity('High', 'Informational')).toBeUndefined();
  });
});
