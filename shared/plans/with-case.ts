import type { CaseStore } from '../store/case-store';
import { CaseBusyError, CaseLease } from './case-lease';
import { CaseSession } from './case-session';
import { leaseMsOf } from './run-case';
import type { Config } from '../config';

/**
 * Runs `change` on a case under its lease, for writers outside a run (the drift check marking a target it hands
 * to a new case): every write to a case's rows goes through its lease. Returns `busy` when a run holds the case
 * (the caller tries again later), `missing` when there is no such case.
 */
export async function withCase<T>(
  deps: { cases: CaseStore; config: Pick<Config, 'CASE_LEASE_SECONDS'>; now: () => number },
  caseId: string,
  owner: string,
  change: (session: CaseSession) => Promise<T>,
): Promise<{ result: T } | 'busy' | 'missing'> {
  let lease: CaseLease;
  try {
    lease = await CaseLease.acquire(deps.cases, caseId, owner, leaseMsOf(deps.config), deps.now);
  } catch (err) {
    if (err instanceof CaseBusyError) {
      return 'busy';
    }
    throw err;
  }
  try {
    const loaded = await deps.cases.load(caseId);
    if (!loaded) {
      return 'missing';
    }
    const session = new CaseSession(lease, loaded, deps.now);
    const result = await change(session);
    await session.settled();
    return { result };
  } finally {
    await lease.release();
  }
}
