import { odata } from '@azure/data-tables';
import type { ApprovalEntity } from '../approvals/approval-entity';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { releaseOwnership, type OwnershipDeps } from '../plans/ownership';
import type { AuditLog } from '../store/audit-log';
import { CASE_AT_WORK } from '../store/case-model';
import type { CaseStore } from '../store/case-store';
import type { RecordTable } from '../store/record-table';

export interface RetentionDeps extends OwnershipDeps {
  config: Pick<Config, 'RETENTION_DAYS'>;
  cases: CaseStore;
  audit: AuditLog;
  approvals: RecordTable<ApprovalEntity>;
}

export interface RetentionSummary {
  cutoff: string;
  casesRemoved: number;
  /** Old cases still at work (held, waiting, running): kept, and said so in the log. */
  casesKept: number;
  auditRowsRemoved: number;
}


/**
 * Retention: removes cases created more than `RETENTION_DAYS` ago with everything that belongs to them (targets,
 * steps, the case's audit rows, its approvals, the raw bodies and Sentinel copies), releases any identity one still
 * owned, and removes older audit rows of the other scopes (intake refusals, sweeps, drift checks). A case still at
 * work is kept.
 */
export async function purgeExpired(deps: RetentionDeps, log: Logger, maxCases = 500): Promise<RetentionSummary> {
  const cutoff = new Date(deps.now() - deps.config.RETENTION_DAYS * 86_400_000).toISOString();
  const summary: RetentionSummary = { cutoff, casesRemoved: 0, casesKept: 0, auditRowsRemoved: 0 };
  for (const record of await deps.cases.casesCreatedBefore(cutoff, maxCases)) {
    // A case still at work is never removed, however old.
    if (CASE_AT_WORK.has(record.status)) {
      summary.casesKept++;
      continue;
    }
    for (const owned of await deps.owners.ownedBy(record.caseId)) {
      await releaseOwnership(deps, owned.value.identity, record.caseId, 'removed');
    }
    const approvals = await deps.approvals.query(odata`caseId eq ${record.caseId}`);
    await deps.approvals.deleteRows(approvals);
    summary.auditRowsRemoved += await deps.audit.purgeScope(record.caseId);
    await deps.cases.deleteCase(record.caseId);
    summary.casesRemoved++;
  }
  summary.auditRowsRemoved += await deps.audit.purgeBefore(cutoff);
  log.info(JSON.stringify({ retention: summary }));
  return summary;
}
