import type { CaseStore } from '../store/case-store';
import type { AuditLog } from '../store/audit-log';
import { enqueueCase } from '../store/case-queue';
import type { Storage } from '../store/storage';

/** A case untouched this long while `received` or `running` has lost its message (or its worker). */
export const STUCK_AFTER_MS = 120_000;
/** A case waiting for another this long is looked at again (the other's wake-up may have been lost). */
export const WAITING_RECHECK_MS = 10 * 60_000;

/**
 * Nothing accepted is lost: re-queues cases recorded but never queued (the queue write failed after the intake
 * recorded them), cases whose worker died mid-run (their message would otherwise stay invisible for the host's
 * full lease, up to 10 minutes), cases holding targets an update added but never queued, and cases waiting for
 * another case longer than expected. A duplicate message is harmless: one worker at a time holds a case, and
 * finished steps are never repeated.
 */
export async function recoverStuckCases(deps: { cases: CaseStore; storage: Storage; audit: AuditLog; now: () => number }): Promise<{ requeued: string[] }> {
  const requeued = new Set<string>();
  const now = deps.now();
  const stale = async (caseId: string, since: string, why: string): Promise<void> => {
    if (requeued.has(caseId)) {
      return;
    }
    requeued.add(caseId);
    await enqueueCase(deps.storage, { caseId });
    await deps.audit.write({ action: 'case.requeued', scope: caseId, actor: 'system', result: 'info', detail: `${why} since ${since}` });
  };
  for (const status of ['received', 'running'] as const) {
    for (const record of await deps.cases.casesWithStatus(status)) {
      if (now - Date.parse(record.updatedAt) >= STUCK_AFTER_MS) {
        await stale(record.caseId, record.updatedAt, status);
      }
    }
  }
  for (const record of await deps.cases.casesWithStatus('waiting')) {
    if (now - Date.parse(record.updatedAt) >= WAITING_RECHECK_MS) {
      await stale(record.caseId, record.updatedAt, 'waiting');
    }
  }
  for (const { caseId, target } of await deps.cases.targetsWithStatus('pending', 500)) {
    if (now - Date.parse(target.receivedAt) >= STUCK_AFTER_MS) {
      await stale(caseId, target.receivedAt, 'target pending');
    }
  }
  return { requeued: [...requeued] };
}
