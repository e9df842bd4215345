import type { CaseBundle, CaseRecord, TargetRecord } from '../store/case-model';

/** Target states in which nothing was, or will be, done to the identity by this case. */
const UNTOUCHED: ReadonlySet<TargetRecord['status']> = new Set(['skipped', 'not-found', 'joined', 'unverified']);

/**
 * A case's status from its targets and steps, the same for every planner: waiting for a human first, then
 * anything that failed, then unfinished work; a case that touched nobody (no target acted on, no step done)
 * is `ignored`.
 */
export function caseStatus(bundle: Pick<CaseBundle, 'targets' | 'steps'>): CaseRecord['status'] {
  const targets = bundle.targets;
  if (targets.some((t) => t.status === 'held')) {
    return 'held';
  }
  if (targets.some((t) => t.status === 'failed') || bundle.steps.some((s) => s.state === 'failed')) {
    return 'partial';
  }
  if (targets.some((t) => t.status === 'pending')) {
    return 'running';
  }
  const touched = bundle.steps.some((s) => s.state === 'done' || s.state === 'would-do') || targets.some((t) => !UNTOUCHED.has(t.status));
  return touched ? 'done' : 'ignored';
}
