import { isSuspicious, type CaseBundle, type CaseRecord, type TargetRecord } from '../store/case-model';

/** Target states in which this case did nothing to the identity and never will. */
const UNTOUCHED: ReadonlySet<TargetRecord['status']> = new Set(['skipped', 'not-found', 'unverified']);

/**
 * A case's status from its targets and steps, the same for every planner: unfinished work first, then what waits
 * for a human (an approval), then anything that failed, then what waits for another case; a case whose every
 * target was refused as not backed by Sentinel is `suspicious`; one that touched nobody is `ignored`.
 */
export function caseStatus(bundle: Pick<CaseBundle, 'targets' | 'steps'>): CaseRecord['status'] {
  const targets = bundle.targets;
  const has = (status: TargetRecord['status']): boolean => targets.some((t) => t.status === status);
  // A step left pending (a ticket waiting for a lost create to settle, a throttled note) is unfinished work too.
  if (has('pending') || bundle.steps.some((s) => s.state === 'pending' || s.state === 'running')) {
    return 'running';
  }
  if (has('held')) {
    return 'held';
  }
  if (has('failed') || bundle.steps.some((s) => s.state === 'failed')) {
    return 'partial';
  }
  if (has('waiting')) {
    return 'waiting';
  }
  if (targets.length > 0 && targets.every(isSuspicious)) {
    return 'suspicious';
  }
  return targets.some((t) => !UNTOUCHED.has(t.status)) ? 'done' : 'ignored';
}
