import { describe, expect, it } from 'vitest';
import { auditRow } from '../../../shared/store/audit-row';
import { checkRows } from '../../../dev/simulator/log-ingestion-routes';

const caseId = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const approvalId = '0123456789abcdef01234567';
const at = '2026-11-22T10:00:00.000Z';

describe('auditRow', () => {
  it('names an accepted case, a containment and a release as the Sentinel workbook reads them', () => {
    expect(auditRow({ action: 'intake.received', scope: caseId, actor: 'playbook-oid', result: 'ok', detail: 'incident:1: 1 target(s)', at })).toMatchObject({ Action: 'case.accepted', Scope: 'intake', CaseId: caseId, Result: 'succeeded', Actor: 'playbook-oid' });
    expect(auditRow({ action: 'target.contained', scope: caseId, actor: 'system', targetId: 'agent-oid', result: 'ok', detail: 'contained', at })).toMatchObject({ Action: 'containment.disable', Scope: 'containment', Result: 'succeeded', Actor: 'responder', TargetId: 'agent-oid' });
    expect(auditRow({ action: 'target.released', scope: caseId, actor: 'system', targetId: 'agent-oid', result: 'ok', at })).toMatchObject({ Action: 'release.enable', Scope: 'release' });
  });

  it('gives a decision its approval id, its outcome and the approver\'s reason, and keeps the table\'s own action in Detail', () => {
    const row = auditRow({ action: 'approval.rejected', scope: caseId, actor: 'approver-oid', targetId: 'agent-oid', result: 'ok', detail: `${approvalId}: rejected — not the vendor after all`, at });
    expect(row).toMatchObject({ Action: 'approval.decided', Scope: 'approval', RequestId: approvalId, Result: 'rejected', Actor: 'approver-oid', TimeGenerated: at });
    expect(JSON.parse(row.Detail)).toEqual({ text: 'rejected — not the vendor after all', auditAction: 'approval.rejected', reason: 'not the vendor after all' });
  });

  it('keeps an action the workbook does not rename, and a scope that is not a case', () => {
    const row = auditRow({ action: 'approval.link-refused', scope: 'approvals', actor: 'anonymous', result: 'refused', detail: 'bad token', at });
    expect(row).toMatchObject({ Action: 'approval.link-refused', Scope: 'approvals', CaseId: '', Result: 'refused', RequestId: '' });
  });

  it('masks a secret that reached an audit detail', () => {
    const row = auditRow({ action: 'approval.viewed', scope: caseId, actor: 'x', result: 'info', detail: `${approvalId}: opened https://app/api/approvals/${approvalId}?token=abc.def.ghi`, at });
    expect(row.Detail).not.toContain('abc.def.ghi');
  });

  it('is a row the audit stream takes: the declared columns, strings, a datetime', () => {
    const row = auditRow({ action: 'target.held', scope: caseId, actor: 'system', targetId: 'x', result: 'ok', at });
    expect(row.Result).toBe('held');
    expect(checkRows([row])).toEqual([]);
  });
});
