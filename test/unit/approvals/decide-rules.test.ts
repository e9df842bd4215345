import { describe, expect, it } from 'vitest';
import { applyDecision, countApprovals, type ApprovalRecord, type Decision } from '../../../shared/approvals/decide-rules';

const now = Date.UTC(2025, 5, 1, 12, 0, 0);
const ALICE = 'aaaaaaaa-0000-0000-0000-000000000001';
const BOB = 'bbbbbbbb-0000-0000-0000-000000000002';
const REQUESTER = 'cccccccc-0000-0000-0000-000000000003';
const SPONSOR = 'dddddddd-0000-0000-0000-000000000004';

function record(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: 'apr-1',
    status: 'pending',
    quorum: 1,
    expiresAt: now + 3_600_000,
    requestedBy: REQUESTER,
    excluded: [SPONSOR],
    decisions: [],
    ...overrides,
  };
}

const approve = (by: string): Decision => ({ by, decision: 'approve', at: now });
const reject = (by: string): Decision => ({ by, decision: 'reject', at: now, comment: 'not safe yet' });
const allowed = { now, isAllowedApprover: true };

describe('applyDecision', () => {
  it('approves with quorum 1 and says the decision is final', () => {
    const outcome = applyDecision(record(), approve(ALICE), allowed);
    expect(outcome).toMatchObject({ ok: true, final: true, record: { status: 'approved', decisions: [approve(ALICE)] } });
  });

  it('needs two distinct people for quorum 2', () => {
    const first = applyDecision(record({ quorum: 2 }), approve(ALICE), allowed);
    expect(first).toMatchObject({ ok: true, final: false, record: { status: 'pending' } });
    if (!first.ok) {
      throw new Error('expected ok');
    }
    const second = applyDecision(first.record, approve(BOB), allowed);
    expect(second).toMatchObject({ ok: true, final: true, record: { status: 'approved' } });
    if (second.ok) {
      expect(countApprovals(second.record)).toBe(2);
    }
  });

  it('does not count the same person twice, whatever the case of the id', () => {
    const first = applyDecision(record({ quorum: 2 }), approve(ALICE), allowed);
    if (!first.ok) {
      throw new Error('expected ok');
    }
    expect(applyDecision(first.record, approve(ALICE.toUpperCase()), allowed)).toMatchObject({
      ok: false,
      code: 'already-decided',
    });
    expect(applyDecision(first.record, reject(ALICE), allowed)).toMatchObject({ ok: false, code: 'already-decided' });
  });

  it('refuses the requester, sponsors and owners', () => {
    expect(applyDecision(record(), approve(REQUESTER), allowed)).toMatchObject({ ok: false, code: 'separation-of-duties' });
    expect(applyDecision(record(), approve(SPONSOR.toUpperCase()), allowed)).toMatchObject({
      ok: false,
      code: 'separation-of-duties',
    });
  });

  it('lets anyone allowed decide a request the system raised', () => {
    expect(applyDecision(record({ requestedBy: 'system' }), approve(ALICE), allowed)).toMatchObject({ ok: true });
  });

  it('lets one reject reject, even after an approval toward quorum', () => {
    const first = applyDecision(record({ quorum: 2 }), approve(ALICE), allowed);
    if (!first.ok) {
      throw new Error('expected ok');
    }
    const second = applyDecision(first.record, reject(BOB), allowed);
    expect(second).toMatchObject({ ok: true, final: true, record: { status: 'rejected' } });
  });

  it('refuses decisions once the request is decided (first decision wins)', () => {
    for (const status of ['approved', 'rejected', 'expired'] as const) {
      expect(applyDecision(record({ status }), approve(BOB), allowed)).toMatchObject({ ok: false, code: 'not-pending' });
    }
  });

  it('refuses decisions at or after expiry', () => {
    const r = record();
    expect(applyDecision(r, approve(ALICE), { ...allowed, now: r.expiresAt })).toMatchObject({ ok: false, code: 'expired' });
  });

  it('refuses people who are not allowed approvers', () => {
    expect(applyDecision(record(), approve(ALICE), { now, isAllowedApprover: false })).toMatchObject({
      ok: false,
      code: 'not-allowed',
    });
  });

  it('checks in the documented order', () => {
    // Not pending beats expired beats not allowed beats separation of duties.
    const r = record({ status: 'approved', expiresAt: now - 1 });
    expect(applyDecision(r, approve(REQUESTER), { now, isAllowedApprover: false })).toMatchObject({ code: 'not-pending' });
    expect(applyDecision({ ...r, status: 'pending' }, approve(REQUESTER), { now, isAllowedApprover: false })).toMatchObject({
      code: 'expired',
    });
    expect(applyDecision(record(), approve(REQUESTER), { now, isAllowedApprover: false })).toMatchObject({
      code: 'not-allowed',
    });
  });

  it('returns a new record and leaves the input untouched', () => {
    const input = record({ quorum: 2 });
    const snapshot = structuredClone(input);
    const outcome = applyDecision(input, approve(ALICE), allowed);
    expect(input).toEqual(snapshot);
    expect(outcome.ok && outcome.record).not.toBe(input);
  });
});

describe('applyDecision: each refusal, attacked', () => {
  it('refuses the requester whatever the letter case of their id', () => {
    expect(applyDecision(record(), approve(REQUESTER.toUpperCase()), allowed)).toMatchObject({ ok: false, code: 'separation-of-duties' });
    expect(applyDecision(record({ requestedBy: REQUESTER.toUpperCase() }), reject(REQUESTER), allowed)).toMatchObject({ ok: false, code: 'separation-of-duties' });
  });

  it('refuses anyone on the excluded list, not only when everyone listed is the same person', () => {
    const r = record({ excluded: [SPONSOR, 'eeeeeeee-0000-0000-0000-000000000005', BOB] });
    expect(applyDecision(r, approve(BOB), allowed)).toMatchObject({ ok: false, code: 'separation-of-duties' });
    expect(applyDecision(r, approve(SPONSOR), allowed)).toMatchObject({ ok: false, code: 'separation-of-duties' });
    expect(applyDecision(r, approve(ALICE), allowed)).toMatchObject({ ok: true });
  });

  it('tells the person why, in words, and that nothing was changed', () => {
    const messages = [
      applyDecision(record({ status: 'approved' }), approve(ALICE), allowed),
      applyDecision(record(), approve(ALICE), { ...allowed, now: now + 3_600_000 }),
      applyDecision(record(), approve(ALICE), { now, isAllowedApprover: false }),
      applyDecision(record(), approve(SPONSOR), allowed),
    ].map((o) => (o.ok ? 'accepted' : o.message));
    expect(messages[0]).toBe('This request was already approved; nothing was changed.');
    expect(messages[1]).toMatch(/^This request expired before a decision was made; nothing was changed\./);
    expect(messages[2]).toMatch(/^You are not on the list of people who may decide this request; nothing was changed\./);
    expect(messages[3]).toMatch(/^You cannot decide this request because you asked for it, or you sponsor or own the identity/);
    const first = applyDecision(record({ quorum: 2 }), approve(ALICE), allowed);
    const again = first.ok ? applyDecision(first.record, approve(ALICE), allowed) : first;
    expect(again.ok ? 'accepted' : again.message).toBe('You have already decided this request; your first decision stands.');
  });

  it('approves at quorum 0 or 1 with the first approval, never with none', () => {
    for (const quorum of [0, 1]) {
      expect(applyDecision(record({ quorum }), approve(ALICE), allowed)).toMatchObject({ ok: true, final: true, record: { status: 'approved' } });
    }
  });
});

describe('countApprovals', () => {
  it('counts distinct people who approved: not rejections, and one person once whatever the case of their id', () => {
    const decisions: Decision[] = [approve(ALICE), approve(ALICE.toUpperCase()), reject(BOB), approve(REQUESTER)];
    expect(countApprovals({ decisions })).toBe(2);
    expect(countApprovals({ decisions: [reject(ALICE), reject(BOB)] })).toBe(0);
    expect(countApprovals({ decisions: [] })).toBe(0);
  });
});

// Mutant `npm run test:mutation` leaves alive in decide-rules.ts, equivalent: countApprovals folding ids to upper
// case instead of lower case counts the same distinct people.
