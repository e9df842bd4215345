import type { CaseStore } from '../store/case-store';
import type { AuditLog } from '../store/audit-log';
import { CASE_AT_WORK } from '../store/case-model';
import { enqueueCase, type CaseMessage } from '../store/case-queue';
import type { IdentityOwners } from '../store/identity-owners';
import type { Storage } from '../store/storage';
import { identityOf } from '../plans/ownership';
import { IsolatedSweep } from '../async/isolated-sweep';

/** A case untouched this long while `received` or `running` has lost its message (or its worker). */
export const STUCK_AFTER_MS = 120_000;
/** Cases (and pending targets) read in each status by one recovery run. */
export const RECOVERY_PAGE = 500;
/** A case waiting for another this long is looked at again (the other's wake-up may have been lost). */
export const WAITING_RECHECK_MS = 10 * 60_000;

/**
 * Nothing accepted is lost: re-queues cases recorded but never queued (the queue write failed after the intake
 * recorded them), cases whose worker died mid-run (their message would otherwise stay invisible for the host's
 * full lease, up to 10 minutes), cases holding targets an update added but never queued, and cases waiting for
 * another case longer than expected. A case waited for that is no longer at work still owns the identity (its
 * ownership write was lost for good, or an earlier version left it): it is queued to settle its ownership, which
 * gives the identity back or says it contained, and wakes the waiting case. A duplicate message is harmless: one
 * worker at a time holds a case, and finished steps are never repeated.
 */
export async function recoverStuckCases(deps: {
  cases: CaseStore;
  storage: Storage;
  audit: AuditLog;
  owners: IdentityOwners;
  now: () => number;
  log?: { warn(msg: string): void };
}, opts: { pageSize?: number } = {}): Promise<{ requeued: string[] }> {
  const pageSize = opts.pageSize ?? RECOVERY_PAGE;
  const requeued = new Set<string>();
  const now = deps.now();
  /** Only cases left alone this long are read: a re-queued case is updated by its run and leaves the page for others. */
  const before = (ms: number): string => new Date(now - ms).toISOString();
  /** Each case on its own: one that fails (a read storage keeps refusing) does not stop the others. */
  const sweep = new IsolatedSweep('case', deps.log);
  const requeue = async (message: CaseMessage, detail: string): Promise<void> => {
    if (requeued.has(message.caseId)) {
      return;
    }
    await enqueueCase(deps.storage, message);
    requeued.add(message.caseId);
    await deps.audit.write({ action: 'case.requeued', scope: message.caseId, actor: 'system', result: 'info', detail });
  };
  const stale = (caseId: string, since: string, why: string): Promise<void> => requeue({ caseId }, `${why} since ${since}`);
  /** The owners, no longer at work, of the identities a case's targets wait for. */
  const settleIdleOwners = async (caseId: string): Promise<void> => {
    const waiting = (await deps.cases.load(caseId))?.targets.filter((t) => t.status === 'waiting') ?? [];
    for (const identity of new Set(waiting.map(identityOf).filter((id): id is string => id !== undefined))) {
      const owner = (await deps.owners.get(identity))?.value.caseId;
      const record = owner !== undefined && owner !== caseId ? await deps.cases.getCase(owner) : undefined;
      if (record && !CASE_AT_WORK.has(record.status)) {
        await requeue({ caseId: record.caseId, settleOwnership: true }, `still owns ${identity}, which case ${caseId} waits for, though ${record.status}: settling its ownership`);
      }
    }
  };
  for (const status of ['received', 'running'] as const) {
    await sweep.each(deps.cases.casesWithStatus(status, pageSize, before(STUCK_AFTER_MS)), (r) => r.caseId, async (record) => {
      if (now - Date.parse(record.updatedAt) >= STUCK_AFTER_MS) {
        await stale(record.caseId, record.updatedAt, status);
      }
    });
  }
  await sweep.each(deps.cases.casesWithStatus('waiting', pageSize, before(WAITING_RECHECK_MS)), (r) => r.caseId, async (record) => {
    if (now - Date.parse(record.updatedAt) >= WAITING_RECHECK_MS) {
      await settleIdleOwners(record.caseId);
      await stale(record.caseId, record.updatedAt, 'waiting');
    }
  });
  /** Whether a case's own run touched it lately (a paused case's message comes back every few seconds and stores it). */
  const alive = new Map<string, Promise<boolean>>();
  const touchedLately = (caseId: string): Promise<boolean> => {
    let read = alive.get(caseId);
    if (!read) {
      read = deps.cases.getCase(caseId).then((r) => r !== undefined && now - Date.parse(r.updatedAt) < STUCK_AFTER_MS);
      alive.set(caseId, read);
    }
    return read;
  };
  await sweep.each(deps.cases.targetsWithStatus('pending', pageSize), (t) => t.caseId, async ({ caseId, target }) => {
    // A target pending long in a case its own message still runs (paused by the emergency stop) is not lost: another
    // message would only run beside that one, one more on every recovery run.
    if (now - Date.parse(target.receivedAt) >= STUCK_AFTER_MS && !(await touchedLately(caseId))) {
      await stale(caseId, target.receivedAt, 'target pending');
    }
  });
  sweep.finish();
  return { requeued: [...requeued] };
}
