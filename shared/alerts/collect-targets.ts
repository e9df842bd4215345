import { targetKey, type RejectedEntity, type TargetRef } from './alert-types';
import type { EntityOutcome } from './entity-to-target';

/** Most entities (or direct targets) read from one body; beyond it the body is refused, not truncated. */
export const MAX_ENTITIES = 500;

/**
 * De-duplicates targets by {@link targetKey}, keeping first-seen order. When the same identity appears
 * twice, display details (`upn`, `name`) missing from the first are taken from the later one.
 */
export function collectTargets(targets: readonly TargetRef[]): TargetRef[] {
  const byKey = new Map<string, TargetRef>();
  for (const t of targets) {
    const key = targetKey(t);
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, { ...t });
      continue;
    }
    if (seen.name === undefined && t.name !== undefined) {
      seen.name = t.name;
    }
    if (seen.by === 'objectId' && t.by === 'objectId' && seen.upn === undefined && t.upn !== undefined) {
      seen.upn = t.upn;
    }
  }
  return [...byKey.values()];
}

/**
 * Splits entity outcomes into de-duplicated targets and rejected entities. An entity rejected for the same
 * reason under the same kind and name, in any letter case (an Ip listed in the incident and again in its
 * alert), is kept once.
 */
export function collectOutcomes(outcomes: readonly EntityOutcome[]): { targets: TargetRef[]; rejected: RejectedEntity[] } {
  const targets: TargetRef[] = [];
  const rejected: RejectedEntity[] = [];
  const rejectedKeys = new Set<string>();
  for (const outcome of outcomes) {
    if ('target' in outcome) {
      targets.push(outcome.target);
      continue;
    }
    const r = outcome.rejected;
    if (r.name !== undefined) {
      const key = JSON.stringify([r.kind, r.name, r.reason]).toLowerCase();
      if (rejectedKeys.has(key)) {
        continue;
      }
      rejectedKeys.add(key);
    }
    rejected.push(r);
  }
  return { targets: collectTargets(targets), rejected };
}
