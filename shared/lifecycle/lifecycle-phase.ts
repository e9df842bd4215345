const DAY_MS = 86_400_000;

/** Where an agent stands against its end of lifecycle. */
export type LifecyclePhase = 'active' | 'expiring' | 'expired' | 'past-grace';

export interface PhaseRules {
  /** Warn this many days ahead (`LIFECYCLE_WARN_DAYS`). */
  warnDays: number;
  /** Days after the end date before deletion is due (`LIFECYCLE_GRACE_DAYS`). */
  graceDays: number;
}

/** Whole days from the UTC day of `now` to `date` (negative once it passed). */
export function daysUntil(date: string, now: number): number {
  const today = Date.parse(`${new Date(now).toISOString().slice(0, 10)}T00:00:00Z`);
  return Math.round((Date.parse(`${date}T00:00:00Z`) - today) / DAY_MS);
}

/**
 * The phase of an agent whose lifecycle ends on `date` (UTC): the agent may run until that day begins, so it
 * is expired on the end date itself; expiring within `warnDays` before it; past its grace period
 * `graceDays` after it.
 * @example lifecyclePhase('2026-01-31', Date.parse('2026-01-20T12:00:00Z'), { warnDays: 14, graceDays: 30 }) // 'expiring'
 */
export function lifecyclePhase(date: string, now: number, rules: PhaseRules): LifecyclePhase {
  const days = daysUntil(date, now);
  if (days > rules.warnDays) {
    return 'active';
  }
  if (days > 0) {
    return 'expiring';
  }
  return -days >= rules.graceDays ? 'past-grace' : 'expired';
}
