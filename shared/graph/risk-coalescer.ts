import { UpstreamError } from '../errors';
import type { Graph } from './graph-client';
import { RISK_IDS_PER_CALL, setRisk, type RiskApi } from './identity-protection';

type RiskAction = 'confirmCompromised' | 'dismiss';

interface Waiter {
  ids: string[];
  /** Sent alone: a merged call that included these ids failed permanently. */
  solo?: boolean;
  resolve: (requestId: string | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces Identity Protection calls across targets and across cases handled at the same time by this
 * worker. Identity Protection allows about 1 request/s per tenant, so instead of one call per target the
 * coalescer sends at most one call per `minIntervalMs` per collection and action, each with up to 60 ids.
 * The first call goes out at once; ids submitted while it is in flight or in the cool-down ride the next one.
 */
export class RiskCoalescer {
  private readonly queues = new Map<string, Waiter[]>();
  private readonly busy = new Set<string>();
  private lastCallAt = 0;

  constructor(
    private readonly graph: Graph,
    private readonly minIntervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  submit(api: RiskApi, action: RiskAction, ids: readonly string[]): Promise<string | undefined> {
    const key = `${api}|${action}`;
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(key) ?? [];
      queue.push({ ids: [...ids], resolve, reject });
      this.queues.set(key, queue);
      this.pump(key, api, action);
    });
  }

  private pump(key: string, api: RiskApi, action: RiskAction): void {
    if (this.busy.has(key)) {
      return;
    }
    this.busy.add(key);
    void this.drain(key, api, action).finally(() => this.busy.delete(key));
  }

  private async drain(key: string, api: RiskApi, action: RiskAction): Promise<void> {
    for (;;) {
      const queue = this.queues.get(key) ?? [];
      if (queue.length === 0) {
        return;
      }
      // One shared pace for all collections: the limit is per tenant, not per API.
      const wait = this.lastCallAt + this.minIntervalMs - this.now();
      if (wait > 0) {
        await new Promise((r) => setTimeout(r, wait));
      }
      const taken: Waiter[] = [];
      const ids = new Set<string>();
      while (queue.length > 0) {
        const next = queue[0];
        if (!next) {
          break;
        }
        const merged = new Set([...ids, ...next.ids]);
        if ((merged.size > RISK_IDS_PER_CALL || next.solo === true || taken[0]?.solo === true) && taken.length > 0) {
          break;
        }
        queue.shift();
        taken.push(next);
        next.ids.forEach((id) => ids.add(id));
      }
      this.lastCallAt = this.now();
      const all = [...ids];
      try {
        let requestId: string | undefined;
        for (let i = 0; i < all.length; i += RISK_IDS_PER_CALL) {
          if (i > 0) {
            await new Promise((r) => setTimeout(r, this.minIntervalMs));
          }
          requestId = (await setRisk(this.graph, api, action, all.slice(i, i + RISK_IDS_PER_CALL))).requestId;
          this.lastCallAt = this.now();
        }
        taken.forEach((w) => w.resolve(requestId));
      } catch (err) {
        const permanent = !(err instanceof UpstreamError && err.transient);
        if (permanent && taken.length > 1) {
          // One unknown or wrong-kind id fails the whole call (Graph checks every id first): send each
          // submitter's ids on their own, so one case's bad target does not fail the others' confirmation.
          queue.unshift(...taken.map((w) => ({ ...w, solo: true })));
          continue;
        }
        taken.forEach((w) => w.reject(err));
      }
    }
  }
}
