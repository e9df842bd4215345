import { describe, expect, it } from 'vitest';
import { describeCase } from '../../../shared/plans/describe-case';
import type { CaseBundle, TargetRecord } from '../../../shared/store/case-model';

function bundle(targets: Partial<TargetRecord>[], mode: 'enforce' | 'report-only' = 'enforce'): CaseBundle {
  const at = '2026-11-20T09:00:00.000Z';
  return {
    etag: '*',
    record: { caseId: 'c0000000-0000-4000-8000-000000000001', kind: 'containment', source: 'incident', createdAt: at, updatedAt: at, status: 'done', mode, title: 'Agent exfiltrating', severity: 'High', dedupeKey: 'incident:x', requestedBy: 'playbook', rejected: [] },
    targets: targets.map((t, i) => ({ key: `oid:${i}`, ref: { by: 'objectId', objectId: `${i}` }, plan: 'contain', round: 0, status: 'pending', receivedAt: at, displayName: `Agent ${i}`, ...t })),
    steps: [],
  };
}

describe('describeCase', () => {
  it('titles the ticket by what happened', () => {
    expect(describeCase(bundle([{ status: 'contained' }])).title).toBe('[Agent responders] contained: Agent 0');
    expect(describeCase(bundle([{ status: 'skipped' }, { status: 'not-found' }])).title).toBe('[Agent responders] not acted on: Agent 0, Agent 1');
    expect(describeCase(bundle([{ status: 'failed' }])).title).toMatch(/containment FAILED/);
    expect(describeCase(bundle([{ status: 'failed' }, { status: 'contained' }])).title).toMatch(/partly contained/);
    expect(describeCase(bundle([{ status: 'held' }, { status: 'contained' }])).title).toMatch(/held for approval/);
    expect(describeCase(bundle([{ status: 'would-contain' }], 'report-only')).title).toMatch(/would contain/);
  });

  it('gives the approval link of a held target, and says report-only asked nobody', () => {
    const held = bundle([{ status: 'held', approvalId: 'a1' }]);
    expect(describeCase(held, { links: new Map([['a1', 'https://responders.example/api/approvals/a1?token=t']]) }).text).toContain('https://responders.example/api/approvals/a1?token=t');
    const reportOnly = describeCase(bundle([{ status: 'would-hold' }], 'report-only')).text;
    expect(reportOnly).toContain('REPORT-ONLY');
    expect(reportOnly).toContain('no approval was requested');
  });

  it('stays readable for a case that names a thousand identities', () => {
    const many = describeCase(bundle(Array.from({ length: 1000 }, () => ({ status: 'contained' as const })))).text;
    expect(many).toContain('… and 800 more');
    expect(many.split('\n').length).toBeLessThan(260);
  });
});
