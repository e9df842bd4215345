import { describe, expect, it } from 'vitest';
import { checkGuardrails } from '../../../shared/containment/guardrails';
import { planContainment } from '../../../shared/containment/plan-containment';
import type { IdentityKind } from '../../../shared/graph/identity-kind';
import type { TargetRecord } from '../../../shared/store/case-model';

const ID = 'a9e00000-0000-4000-8000-000000000001';
const RESPONDER = 'a0000000-0000-4000-8000-000000000001';

function target(kind: IdentityKind, extra: Partial<TargetRecord> = {}): TargetRecord {
  return { key: `oid:${ID}`, ref: { by: 'objectId', objectId: ID }, status: 'pending', objectId: ID, kind, receivedAt: '2026-11-20T09:00:00.000Z', ...extra };
}

const config = { PROTECTED_IDENTITIES: ['c1a55000-0000-4000-8000-000000000002'], REQUIRE_APPROVAL_IDENTITIES: ['c1a5a000-0000-4000-8000-000000000009'], DIRECT_REQUESTS_REQUIRE_APPROVAL: true };

describe('planContainment', () => {
  it.each<[IdentityKind, string[]]>([
    ['agentIdentity', ['disable', 'confirm-compromised']],
    ['agentBlueprintPrincipal', ['disable', 'confirm-compromised']],
    ['servicePrincipal', ['disable', 'confirm-compromised']],
    ['agentUser', ['confirm-compromised', 'revoke-sessions']],
    ['user', ['confirm-compromised', 'revoke-sessions']],
    ['other', []],
  ])('plans the containment table for %s, the disable first', (kind, actions) => {
    const steps = planContainment(target(kind, { displayName: 'Contoso Invoice Agent' }));
    expect(steps.map((s) => s.action)).toEqual(actions);
    for (const s of steps) {
      expect(s).toMatchObject({ stepId: `oid:${ID}|${s.action}`, targetKey: `oid:${ID}` });
      expect(s.description).toContain('Contoso Invoice Agent');
    }
  });

  it('names the Identity Protection collection of each kind in the confirm step', () => {
    const describe = (kind: IdentityKind) => planContainment(target(kind)).find((s) => s.action === 'confirm-compromised')?.description;
    expect(describe('agentUser')).toContain('riskyAgents');
    expect(describe('servicePrincipal')).toContain('riskyServicePrincipals');
    expect(describe('user')).toContain('riskyUsers');
  });
});

describe('checkGuardrails', () => {
  const run = (t: TargetRecord, over: { responderId?: string; direct?: boolean; approved?: boolean } = {}) =>
    checkGuardrails({ target: t, responderId: over.responderId ?? RESPONDER, config, direct: over.direct ?? false, approved: over.approved ?? false });

  it('lets an ordinary agent through', () => {
    expect(run(target('agentIdentity'))).toEqual({ action: 'run' });
  });

  it('never acts on the responder, Microsoft first-party principals or protected identities, even when approved', () => {
    expect(run(target('servicePrincipal', { objectId: RESPONDER }), { approved: true }).action).toBe('skip');
    expect(run(target('servicePrincipal', { appOwnerOrganizationId: 'f8cdef31-a31e-4b4a-93e4-5f571e91255a' }), { approved: true }).action).toBe('skip');
    expect(run(target('servicePrincipal', { appOwnerOrganizationId: '72f988bf-86f1-41af-91ab-2d7cd011db47' })).action).toBe('skip');
    expect(run(target('servicePrincipal', { objectId: 'c1a55000-0000-4000-8000-000000000002' }), { approved: true }).action).toBe('skip');
  });

  it('holds blueprint principals, identities requiring approval and unbacked requests, unless approved', () => {
    expect(run(target('agentBlueprintPrincipal')).action).toBe('hold');
    expect(run(target('servicePrincipal', { appId: 'c1a5a000-0000-4000-8000-000000000009' })).action).toBe('hold');
    expect(run(target('agentIdentity'), { direct: true }).action).toBe('hold');
    expect(run(target('agentBlueprintPrincipal'), { approved: true }).action).toBe('run');
    expect(checkGuardrails({ target: target('agentIdentity'), responderId: undefined, config: { ...config, DIRECT_REQUESTS_REQUIRE_APPROVAL: false }, direct: true, approved: false }).action).toBe('run');
  });
});
