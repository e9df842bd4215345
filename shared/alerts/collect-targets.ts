import { targetKey, type RejectedEntity, type TargetRef } from './alert-types';
import type { EntityOutcome } from './entity-to-target';

/**
 * Most rejected entities listed on one alert. A body may carry thousands of entities that name no one (Ip,
 * Host, File…); the case keeps the first ones, each with clipped texts (a few hundred characters at most),
 * and counts the rest, so what is recorded stays bounded whatever the body holds.
 */
export const MAX_REJECTED_LISTED = 100;

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
 * alert), is kept once; past {@link MAX_REJECTED_LISTED} distinct ones, the rest are only counted.
 */
export function collectOutcomes(outcomes: readonly EntityOutcome[]): { targets: TargetRef[]; rejected: RejectedEntity[]; rejectedOmitted: number } {
  const targets: TargetRef[] = [];
  const rejected: RejectedEntity[] = [];
  const rejectedKeys = new Set<string>();
  let rejectedOmitted = 0;
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
    if (rejected.length < MAX_REJECTED_LISTED) {
      rejected.push(r);
    } else {
      rejectedOmitted++;
    }
  }
  return { targets: collectTargets(targets), rejected, rejectedOmitted };
}
