import { z } from 'zod';
import type { FaultRule, Knobs, SimService } from './sim-types';

export const faultRuleSchema = z.object({
  method: z.string().optional(),
  path: z.string().min(1),
  status: z.number().int().min(100).max(599),
  retryAfter: z.number().min(0).optional(),
  times: z.number().int().min(1),
  body: z.unknown().optional(),
  drop: z.boolean().optional(),
});

interface ActiveRule {
  rule: FaultRule;
  regex: RegExp;
}

/** Deterministic faults: the first matching rule answers and loses one of its `times`. */
export class FaultRules {
  private rules: ActiveRule[] = [];

  add(rule: FaultRule): void {
    const parsed = faultRuleSchema.parse(rule);
    this.rules.push({ rule: { ...parsed }, regex: new RegExp(parsed.path) });
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r.rule }));
  }

  /** The rule to apply to this call, if any (already decremented). */
  take(method: string, path: string): FaultRule | undefined {
    if (this.rules.length === 0) {
      return undefined;
    }
    for (const r of this.rules) {
      if (r.rule.method && r.rule.method.toUpperCase() !== method.toUpperCase()) {
        continue;
      }
      if (!r.regex.test(path)) {
        continue;
      }
      const hit = { ...r.rule };
      r.rule.times--;
      if (r.rule.times <= 0) {
        this.rules = this.rules.filter((x) => x !== r);
      }
      return hit;
    }
    return undefined;
  }
}

export type RandomFault = 'drop' | 'throttle' | 'error';

/** Random transient faults from the knobs, for Graph and ARM only. */
export function randomFault(knobs: Knobs, service: SimService, allowDrop = true): RandomFault | undefined {
  if (service !== 'graph' && service !== 'arm') {
    return undefined;
  }
  if (allowDrop && knobs.dropRate > 0 && Math.random() < knobs.dropRate) {
    return 'drop';
  }
  if (knobs.throttleRate > 0 && Math.random() < knobs.throttleRate) {
    return 'throttle';
  }
  if (knobs.errorRate > 0 && Math.random() < knobs.errorRate) {
    return 'error';
  }
  return undefined;
}
