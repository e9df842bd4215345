import { describe, expect, it } from 'vitest';
import { caseStatus } from '../../../shared/plans/case-status';
import type { StepRecord, TargetRecord } from '../../../shared/store/case-model';

const target = (status: TargetRecord['status'], extra: Partial<TargetRecord> = {}): TargetRecord => ({ key: `oid:${status}`, ref: { by: 'objectId', objectId: status }, plan: 'contain', round: 0, status, receivedAt: '2026-11-22T00:00:00Z', ...extra });
const step = (state: StepRecord['state']): StepRecord => ({ stepId: `s-${state}`, targetKey: 'oid:x', action: 'disable', state, attempts: 1, description: 'x', requestIds: [] });

describe('caseStatus', () => {
  it('says running while any target still has work, whatever else the case holds', () => {
    expect(caseStatus({ targets: [target('held'), target('failed'), target('pending')], steps: [step('failed')] })).toBe('running');
  });

  it('says running while a step is unfinished (a ticket waiting for a lost create to settle), though every target is done', () => {
    expect(caseStatus({ targets: [target('contained')], steps: [step('done'), step('pending')] })).toBe('running');
    expect(caseStatus({ targets: [target('contained')], steps: [step('running')] })).toBe('running');
    expect(caseStatus({ targets: [target('contained')], steps: [step('done')] })).toBe('done');
  });

  it('says held while a target waits for a human, even when another failed', () => {
    expect(caseStatus({ targets: [target('held'), target('failed')], steps: [step('failed')] })).toBe('held');
  });

  it('says partial when a target or a step failed', () => {
    expect(caseStatus({ targets: [target('contained'), target('failed')], steps: [] })).toBe('partial');
    expect(caseStatus({ targets: [target('contained')], steps: [step('done'), step('failed')] })).toBe('partial');
  });

  it('says waiting while a target waits for another case and nothing else is unfinished', () => {
    expect(caseStatus({ targets: [target('contained'), target('waiting')], steps: [step('done')] })).toBe('waiting');
  });

  it('says suspicious only when every target was refused as a forgery', () => {
    expect(caseStatus({ targets: [target('unverified', { verification: { state: 'refused', suspicious: true, detail: 'x' } })], steps: [] })).toBe('suspicious');
    expect(caseStatus({ targets: [target('unverified', { verification: { state: 'refused', suspicious: true, detail: 'x' } }), target('contained')], steps: [step('done')] })).toBe('done');
    // A closed incident refuses without suspicion: nothing to act on.
    expect(caseStatus({ targets: [target('unverified', { verification: { state: 'refused', suspicious: false, detail: 'closed' } })], steps: [] })).toBe('ignored');
  });

  it('says ignored when nobody was acted on, done when anyone was (joined, deleted and report-only outcomes included)', () => {
    expect(caseStatus({ targets: [target('skipped'), target('not-found')], steps: [step('skipped')] })).toBe('ignored');
    expect(caseStatus({ targets: [], steps: [] })).toBe('ignored');
    for (const status of ['contained', 'joined', 'deleted', 'released', 'would-contain', 'would-hold', 'rejected', 'expired'] as const) {
      expect(caseStatus({ targets: [target('skipped'), target(status)], steps: [] })).toBe('done');
    }
  });
});
