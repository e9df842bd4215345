import { describe, expect, it } from 'vitest';
import { ReadAhead, READ_AHEAD_LIMIT, READ_AHEAD_TTL_MS, type PrepareReads } from '../../../shared/plans/read-ahead';
import type { PrepareRecord, PrepareResult } from '../../../shared/plans/planner';
import type { CaseHint } from '../../../shared/store/case-queue';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const CASE = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const INCIDENT = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/incidents/i-1';

const target = (objectId: string) => ({ key: `oid:${objectId}`, ref: { by: 'objectId' as const, objectId } });
const hint = (over: Partial<CaseHint> = {}): CaseHint => ({ source: 'incident', incidentArmId: INCIDENT, targets: [target(A), target(B)], ...over });

/** A reader that records what it was asked and answers with a result naming the record it read. */
function reader(fail = false) {
  const calls: { record: PrepareRecord; keys: string[] }[] = [];
  const read: PrepareReads = (record, targets) => {
    calls.push({ record, keys: targets.map((t) => t.key) });
    return fail ? Promise.reject(new Error('503 from ARM')) : Promise.resolve({ byKey: new Map(targets.map((t) => [t.key, { resolved: null }])), readAt: calls.length, severity: 'High' } satisfies PrepareResult);
  };
  return { calls, read };
}

describe('ReadAhead', () => {
  it('hands the run the reads the intake sent for the same case, source and identities, once', async () => {
    const { calls, read } = reader();
    const ahead = new ReadAhead(read, () => 0);
    ahead.start(CASE, hint());
    expect(calls).toEqual([{ record: { caseId: CASE, source: 'incident', incidentArmId: INCIDENT }, keys: [`oid:${A}`, `oid:${B}`] }]);
    const taken = ahead.take(CASE, hint());
    expect((await taken)?.readAt).toBe(1);
    expect(ahead.take(CASE, hint())).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('serves a hint naming part of what was read (an update adds one target to a case)', async () => {
    const { read } = reader();
    const ahead = new ReadAhead(read, () => 0);
    ahead.start(CASE, hint());
    expect((await ahead.take(CASE, hint({ targets: [target(B)] })))?.readAt).toBe(1);
  });

  it('never lets reads of one incident, alert, workspace or source answer for another', () => {
    const others: Partial<CaseHint>[] = [
      { incidentArmId: `${INCIDENT}0` },
      { incidentArmId: undefined },
      { source: 'direct' },
      { alertId: 'alert-1' },
      { workspaceCustomerId: '33333333-3333-4333-8333-333333333333' },
    ];
    for (const other of others) {
      const ahead = new ReadAhead(reader().read, () => 0);
      ahead.start(CASE, hint());
      expect(ahead.take(CASE, hint(other)), JSON.stringify(other)).toBeUndefined();
      expect(ahead.size).toBe(0); // forgotten: a second look does not find it either
    }
  });

  it('never lets reads of one identity answer for another under the same key, or for a target not read', () => {
    const ahead = new ReadAhead(reader().read, () => 0);
    ahead.start(CASE, hint());
    // The key names A, the reference names someone else: the identity read is not the one the run would act on.
    expect(ahead.take(CASE, hint({ targets: [{ key: `oid:${A}`, ref: { by: 'objectId', objectId: '44444444-4444-4444-8444-444444444444' } }] }))).toBeUndefined();
    ahead.start(CASE, hint());
    // Same object id, another kind of identifier: an appId is not an object id.
    expect(ahead.take(CASE, hint({ targets: [{ key: `oid:${A}`, ref: { by: 'appId', appId: A } }] }))).toBeUndefined();
    ahead.start(CASE, hint({ targets: [target(A)] }));
    expect(ahead.take(CASE, hint())).toBeUndefined();
    ahead.start(CASE, hint());
    expect(ahead.take('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', hint())).toBeUndefined();
    expect(ahead.take(CASE, hint({ targets: [] }))).toBeUndefined();
  });

  it('does not hand over reads sent longer ago than the time-to-live, and forgets them', () => {
    const base = 1_764_000_000_000;
    let now = base;
    const ahead = new ReadAhead(reader().read, () => now);
    ahead.start(CASE, hint());
    now = base + READ_AHEAD_TTL_MS + 1;
    expect(ahead.take(CASE, hint())).toBeUndefined();
    now = base;
    ahead.start(CASE, hint());
    now = base + READ_AHEAD_TTL_MS;
    expect(ahead.size).toBe(1); // not stale yet at exactly the time-to-live
    expect(ahead.take(CASE, hint())).toBeDefined();
  });

  it('reads an alert back from the workspace it names, and an incident from its id, nothing else', () => {
    const { calls, read } = reader();
    const ahead = new ReadAhead(read, () => 0);
    const ws = '33333333-3333-4333-8333-333333333333';
    ahead.start(CASE, { source: 'alert', alertId: 'alert-1', workspaceCustomerId: ws, targets: [target(A)] });
    ahead.start('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', hint());
    expect(calls[0]?.record).toStrictEqual({ caseId: CASE, source: 'alert', alertId: 'alert-1', workspaceCustomerId: ws });
    expect(calls[1]?.record).toStrictEqual({ caseId: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', source: 'incident', incidentArmId: INCIDENT });
  });

  it('hands over a failed read as the run’s own failure, and sends nothing more (the run is retried like any failed read)', async () => {
    const { calls, read } = reader(true);
    const ahead = new ReadAhead(read, () => 0);
    ahead.start(CASE, hint());
    await expect(ahead.take(CASE, hint())).rejects.toThrow('503 from ARM');
    expect(calls).toHaveLength(1);
  });

  it('reads ahead before the record only for a case it has not read for (a repeat or an update is read once the record says what is new)', () => {
    const { calls, read } = reader();
    const ahead = new ReadAhead(read, () => 0);
    ahead.startNew(CASE, hint());
    expect(ahead.take(CASE, hint())).toBeDefined();
    ahead.startNew(CASE, hint());
    expect(calls).toHaveLength(1);
    expect(ahead.take(CASE, hint())).toBeUndefined();
    // The update's new target, once the record said it is new.
    ahead.start(CASE, hint({ targets: [target(B)] }));
    expect(calls.map((c) => c.keys)).toEqual([[`oid:${A}`, `oid:${B}`], [`oid:${B}`]]);
  });

  it('holds the reads of at most READ_AHEAD_LIMIT cases (a storm reads in the responder), and room comes back as they go stale', () => {
    let now = 0;
    const { calls, read } = reader();
    const ahead = new ReadAhead(read, () => now);
    const caseN = (n: number) => `${String(n).padStart(8, '0')}-aaaa-4aaa-8aaa-aaaaaaaaaaaa`;
    for (let n = 0; n < READ_AHEAD_LIMIT + 5; n += 1) {
      ahead.start(caseN(n), hint());
    }
    expect(calls).toHaveLength(READ_AHEAD_LIMIT);
    expect(ahead.take(caseN(READ_AHEAD_LIMIT), hint())).toBeUndefined();
    ahead.start(caseN(0), hint()); // already waiting: not sent twice
    expect(calls).toHaveLength(READ_AHEAD_LIMIT);
    now = READ_AHEAD_TTL_MS + 1;
    ahead.start(caseN(99), hint());
    expect(calls).toHaveLength(READ_AHEAD_LIMIT + 1);
    expect(ahead.size).toBe(1);
  });

  it('reads nothing for a hint without targets', () => {
    const { calls, read } = reader();
    const ahead = new ReadAhead(read, () => 0);
    ahead.start(CASE, hint({ targets: [] }));
    expect(calls).toHaveLength(0);
    expect(ahead.size).toBe(0);
  });
});
