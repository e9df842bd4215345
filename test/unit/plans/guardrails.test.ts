import { describe, expect, it } from 'vitest';
import { belowMinimumSeverity, blastSlotOf, checkGuardrails, freeBlastSlot, takeBlastSlot, type BlastRadiusDeps } from '../../../shared/plans/guardrails';
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

describe('checkGuardrails: what each rule protects, attacked one at a time', () => {
  const base = { responderId: RESPONDER, config: { ...config, CONTAIN_HUMAN_USERS: false }, unverifiable: false, approved: false };

  it('acts on an ordinary agent when the responder does not know its own id', () => {
    expect(checkGuardrails({ ...base, target: target('agentIdentity'), responderId: undefined })).toEqual({ action: 'run' });
  });

  it("names why it skips the responder's own identity", () => {
    expect(checkGuardrails({ ...base, target: target('servicePrincipal', { objectId: RESPONDER }) })).toEqual({
      action: 'skip',
      reason: "This is the responder's own identity; it never acts on itself. A human must handle it.",
    });
  });

  it('acts on a principal whose app is owned by a tenant other than Microsoft', () => {
    expect(checkGuardrails({ ...base, target: target('servicePrincipal', { appOwnerOrganizationId: 'c0ffee00-0000-4000-8000-000000000001' }) })).toEqual({ action: 'run' });
  });

  it('names why it skips a Microsoft first-party principal and a protected identity', () => {
    expect(checkGuardrails({ ...base, target: target('servicePrincipal', { appOwnerOrganizationId: 'f8cdef31-a31e-4b4a-93e4-5f571e91255a' }) })).toEqual({
      action: 'skip',
      reason: 'Microsoft first-party service principal; disabling it could break the tenant. A human must handle it.',
    });
    expect(checkGuardrails({ ...base, target: target('servicePrincipal', { objectId: 'c1a55000-0000-4000-8000-000000000002' }) })).toEqual({
      action: 'skip',
      reason: 'Listed in PROTECTED_IDENTITIES; never acted on automatically. A human must handle it.',
    });
  });

  it('skips a protected identity even when it is also listed as requiring approval, or unverifiable', () => {
    const both = { ...config, REQUIRE_APPROVAL_IDENTITIES: ['c1a55000-0000-4000-8000-000000000002'] };
    expect(checkGuardrails({ ...base, config: both, unverifiable: true, target: target('agentIdentity', { objectId: 'c1a55000-0000-4000-8000-000000000002' }) }).action).toBe('skip');
  });

  it('does not confuse a person with a protected or responder identity: people are skipped for their own reason', () => {
    const verdict = checkGuardrails({ ...base, target: target('user') });
    expect(verdict).toEqual({
      action: 'skip',
      reason: 'A person, not an agent: people are confirmed compromised and signed out only when CONTAIN_HUMAN_USERS is on. A human must handle it.',
    });
  });

  it('still holds a person Sentinel cannot back when CONTAIN_HUMAN_USERS is on', () => {
    expect(checkGuardrails({ ...base, config: { ...config, CONTAIN_HUMAN_USERS: true }, unverifiable: true, target: target('user') }).action).toBe('hold');
  });

  it('names why it holds a blueprint principal, an identity requiring approval, and an unverifiable request', () => {
    const reasons = [
      checkGuardrails({ ...base, target: target('agentBlueprintPrincipal') }),
      checkGuardrails({ ...base, target: target('servicePrincipal', { appId: 'c1a5a000-0000-4000-8000-000000000009' }) }),
      checkGuardrails({ ...base, unverifiable: true, target: target('agentIdentity') }),
    ].map((v) => (v.action === 'hold' ? v.reason : `not held: ${v.action}`));
    expect(reasons[0]).toMatch(/blueprint/i);
    expect(reasons[1]).toBe('Listed in REQUIRE_APPROVAL_IDENTITIES: containment waits for approval.');
    expect(reasons[2]).toBe('No Sentinel incident or alert backs this request (a direct request, or an entity trigger without an incident): it waits for approval.');
  });

  it('runs an identity requiring approval once an approver released it', () => {
    expect(checkGuardrails({ ...base, approved: true, target: target('servicePrincipal', { objectId: 'c1a5a000-0000-4000-8000-000000000009' }) })).toEqual({ action: 'run' });
  });
});

describe('belowMinimumSeverity: the gate in every order', () => {
  const ORDER = ['Informational', 'Low', 'Medium', 'High'] as const;

  it('gates each severity below the minimum, and only those, naming both', () => {
    for (const [i, severity] of ORDER.entries()) {
      for (const [j, minimum] of ORDER.entries()) {
        const verdict = belowMinimumSeverity(severity, minimum);
        if (i < j) {
          expect(verdict, `${severity} < ${minimum}`).toBe(`Severity ${severity} is below MIN_INCIDENT_SEVERITY (${minimum}): not acted on automatically.`);
        } else {
          expect(verdict, `${severity} >= ${minimum}`).toBeUndefined();
        }
      }
    }
  });
});

/** The part of the key store the blast radius uses, kept in memory with the same rolling-window rules. */
function memoryKeys() {
  const rows = new Map<string, { value: string; until: number }[]>();
  const keys: BlastRadiusDeps['keys'] = {
    takeSlot: (partition, slots, value, now, until) => {
      const list = rows.get(partition) ?? [];
      rows.set(partition, list);
      const live = list.filter((r) => r.until > now);
      if (live.some((r) => r.value === value)) {
        return Promise.resolve(true);
      }
      if (live.length >= slots) {
        return Promise.resolve(false);
      }
      rows.set(partition, [...live, { value, until }]);
      return Promise.resolve(true);
    },
    freeSlot: (partition, value, now) => {
      rows.set(partition, (rows.get(partition) ?? []).filter((r) => !(r.value === value && r.until > now)));
      return Promise.resolve();
    },
    freeSlots: (partition, values, now) => {
      rows.set(partition, (rows.get(partition) ?? []).filter((r) => !(values.includes(r.value) && r.until > now)));
      return Promise.resolve();
    },
    readSlots: () => Promise.resolve([]), // takeSlot here reads its own rows
  };
  return { keys };
}

describe('blast radius', () => {
  const HOUR = 3_600_000;
  const setup = (limit: number) => {
    let now = Date.UTC(2026, 10, 20, 9, 0, 0);
    const { keys } = memoryKeys();
    const deps: BlastRadiusDeps = { keys, config: { BLAST_RADIUS_PER_HOUR: limit }, now: () => now };
    return { deps, advance: (ms: number) => (now += ms) };
  };

  it('admits BLAST_RADIUS_PER_HOUR containments in an hour and holds the next, naming the limit', async () => {
    const { deps } = setup(2);
    expect(await takeBlastSlot(deps, 'case-1|oid:a|0')).toBeUndefined();
    expect(await takeBlastSlot(deps, 'case-2|oid:b|0')).toBeUndefined();
    expect(await takeBlastSlot(deps, 'case-3|oid:c|0')).toBe('Blast-radius limit reached (2 per rolling hour): waits for approval.');
  });

  it('counts a re-run of the same target round once', async () => {
    const { deps } = setup(1);
    const slot = blastSlotOf('case-1', { key: 'oid:a', round: 0 });
    expect(await takeBlastSlot(deps, slot)).toBeUndefined();
    expect(await takeBlastSlot(deps, slot)).toBeUndefined();
    expect(await takeBlastSlot(deps, blastSlotOf('case-1', { key: 'oid:a', round: 1 }))).toMatch(/limit reached/);
  });

  it('gives one slot per case, target and round', () => {
    const slots = new Set([
      blastSlotOf('case-1', { key: 'oid:a', round: 0 }),
      blastSlotOf('case-2', { key: 'oid:a', round: 0 }),
      blastSlotOf('case-1', { key: 'oid:b', round: 0 }),
      blastSlotOf('case-1', { key: 'oid:a', round: 1 }),
    ]);
    expect(slots.size).toBe(4);
    expect(blastSlotOf('case-1', { key: 'oid:a', round: 0 })).toBe(blastSlotOf('case-1', { key: 'oid:a', round: 0 }));
  });

  it('holds a slot for one rolling hour, then lets it go', async () => {
    const { deps, advance } = setup(1);
    expect(await takeBlastSlot(deps, 'case-1|oid:a|0')).toBeUndefined();
    advance(HOUR - 1);
    expect(await takeBlastSlot(deps, 'case-2|oid:b|0')).toMatch(/limit reached/);
    advance(1);
    expect(await takeBlastSlot(deps, 'case-2|oid:b|0')).toBeUndefined();
  });

  it('shares one counter between every plan that cuts access, and frees a slot for the next target', async () => {
    const { deps } = setup(1);
    const lifecycle: BlastRadiusDeps = { ...deps };
    expect(await takeBlastSlot(deps, 'case-1|oid:a|0')).toBeUndefined();
    expect(await takeBlastSlot(lifecycle, 'case-2|oid:b|0')).toMatch(/limit reached/);
    await freeBlastSlot(deps, 'case-1|oid:a|0');
    expect(await takeBlastSlot(lifecycle, 'case-2|oid:b|0')).toBeUndefined();
  });
});

// Mutants `npm run test:mutation` leaves alive in guardrails.ts, each equivalent (no input tells it apart):
// - `ids` without its `v !== undefined` filter, and `input.responderId !== undefined` made `true`: the two guards
//   cover for each other. With either alone, an id-less target never matches an unknown responder id (ids holds no
//   undefined, or an undefined responder id is never looked up), and the PROTECTED/REQUIRE_APPROVAL lists hold
//   GUIDs only, never undefined.
// - `appOwnerOrganizationId !== undefined` made `true`: MICROSOFT_TENANTS.has(undefined) is false anyway.
// - BLAST_PARTITION as '': containment and lifecycle expiry still share one partition (both go through
//   takeBlastSlot/freeBlastSlot), and no other user of the key store writes the empty partition (the others are
//   'control' and 'lifecycle'), so the shared count is the same.
