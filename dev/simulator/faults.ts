import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { FaultRule, Knobs, SimService } from './sim-types';

export const faultRuleSchema = z
  .object({
    method: z.string().optional(),
    path: z.string().min(1),
    service: z.enum(['graph', 'arm', 'loganalytics', 'msi', 'servicenow', 'jira', 'webhook']).optional(),
    status: z.number().int().min(100).max(599).optional(),
    retryAfter: z.number().min(0).optional(),
    times: z.number().int().min(1),
    body: z.unknown().optional(),
    drop: z.boolean().optional(),
    hang: z.boolean().optional(),
    afterCommit: z.boolean().optional(),
  })
  .refine((r) => r.status !== undefined || r.drop === true || r.hang === true, { message: 'a fault needs a status, drop or hang', path: ['status'] })
  .refine((r) => !(r.drop === true && r.hang === true), { message: 'drop and hang exclude each other', path: ['hang'] });

interface ActiveRule {
  rule: FaultRule;
  regex: RegExp;
}

/**
 * Deterministic faults: the first matching rule (method, path RegExp, service) applies and loses one of its
 * `times`. Without `afterCommit` the call never reaches its route; with it the route runs first (its effect is
 * committed) and then the answer is replaced, dropped or withheld: the "time-out after commit" every external
 * write must survive.
 */
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
  take(method: string, path: string, service?: SimService): FaultRule | undefined {
    if (this.rules.length === 0) {
      return undefined;
    }
    for (const r of this.rules) {
      if (r.rule.method && r.rule.method.toUpperCase() !== method.toUpperCase()) {
        continue;
      }
      if (r.rule.service && service !== undefined && r.rule.service !== service) {
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

/** How a rule withholds the answer, if it does: destroy the connection, or never answer. */
export function withheld(rule: FaultRule | undefined): 'drop' | 'hang' | undefined {
  return rule?.drop ? 'drop' : rule?.hang ? 'hang' : undefined;
}

/**
 * Withholds the answer to `req`: `drop` destroys the connection (the client sees a reset), `hang` keeps it open
 * and silent until the client gives up (its time-out) or the simulator stops.
 */
export function withholdAnswer(req: IncomingMessage, mode: 'drop' | 'hang'): void {
  if (mode === 'drop') {
    req.socket.destroy();
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
