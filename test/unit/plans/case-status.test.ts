import { describe, expect, it } from 'vitest';
import { caseStatus } from '../../../shared/plans/case-status';
import type { StepRecord, TargetRecord } from '../../../shared/store/case-model';

const target = (status: TargetRecord['status']): TargetRecord => ({ key: `oid:${status}`, ref: { by: 'objectId', objectId: status }, status, receivedAt: '2026-11-22T00:00:00Z' });
const step = (state: StepRecord['state']): StepRecord => ({ stepId: `s-${state}`, targetKey: 'oid:x', action: 'disable', state, attempts: 1, description: 'x', requestIds: [] });

describe('caseStatus', () => {
  it('says held while any target waits for a human, even when another failed', () => {
    expect(caseStatus({ targets: [target('held'), target('failed')], steps: [step('failed')] })).toBe('held');
  });

  it('says partial when a target or a step failed', () => {
    expect(caseStatus({ targets: [target('contained'), target('failed')], steps: [] })).toBe('partial');
    expect(caseStatus({ targets: [target('contained')], steps: [step('done'), step('failed')] })).toBe('partial');
  });

  it('says running while a target is still pending', () => {
    expect(caseStatus({ targets: [target('contained'), target('pending')], steps: [step('done')] })).toBe('running');
  });

  it('says ignored when nobody was acted on, done when anyone was', () => {
    expect(caseStatus({ targets: [target('skipped'), target('joined'), target('not-found')], steps: [step('skipped')] })).toBe('ignored');
    expect(caseStatus({ targets: [target('skipped'), target('contained')], steps: [step('done')] })).toBe('done');
    // A deleted agent is gone from the directory, but the deletion was done.
    expect(caseStatus({ targets: [target('not-found')], steps: [step('done')] })).toBe('done');
    expect(caseStatus({ targets: [target('would-contain')], steps: [step('would-do')] })).toBe('done');
  });
});
