import type { CaseStore } from '../store/case-store';
import type { AuditLog } from '../store/audit-log';
import type { Storage } from '../store/storage';
import { enqueueCase } from './case-message';

/** A case untouched this long while `received` or `running` has lost its message (or its worker). */
export const STUCK_AFTER_MS = 120_000;

/**
 * Nothing accepted is lost: re-queues cases recorded but never queued (the queue write failed after the
 * intake recorded them) and cases whose worker died mid-run (their message would otherwise stay invisible
 * for the host's full lease, up to 10 minutes). A duplicate message is harmless: one worker at a time holds
 * a case, and finished steps are never repeated.
 */
export async function recoverStuckCases(deps: { cases: CaseStore; storage: Storage; audit: AuditLog; now: () => number }): Promise<{ requeued: string[] }> {
  const requeued: string[] = [];
  for (const status of ['received', 'running'] as const) {
    for (const record of await deps.cases.casesWithStatus(status)) {
      if (deps.now() - Date.parse(record.updatedAt) < STUCK_AFTER_MS) {
        continue;
      }
      await enqueueCase(deps.storage, { caseId: record.caseId, kind: record.kind });
      await deps.audit.write({ action: 'case.requeued', scope: record.caseId, actor: 'system', result: 'info', detail: `${status} since ${record.updatedAt}` });
      requeued.push(record.caseId);
    }
  }
  return { requeued };
}
