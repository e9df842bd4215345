import { ensureError } from '../errors';
import { fetchInventoryPage, type InventoryCursor } from '../graph/agent-inventory';
import type { Logger } from '../logger';
import { AddressBook } from './address-book';
import { countingGraph, emptyTally, type GraphTally } from './counting-graph';
import { SweepCheckpoint, SweepLeaseLostError, type SweepCounts, type SweepState } from './sweep-checkpoint';
import { preparePage, sweepPage, type PreparedPage, type SweepDeps } from './sweep-page';

export type { SweepDeps } from './sweep-page';

export interface SweepOptions {
  /** Invocation id: the lease owner. */
  invocationId: string;
  log: Logger;
  /**
   * Stop after this long and leave the checkpoint for the next run. The Functions time limit (host.json
   * `functionTimeout`, 10 minutes) would otherwise cut the run at an arbitrary point.
   */
  budgetMs?: number;
  /** How long the lease protects a run that stopped writing checkpoints (crashed or killed). */
  leaseMs?: number;
  /** Default `RESPONDER_MODE`. */
  mode?: SweepState['mode'];
}

/** The summary written to the audit table and the logs at the end of every run. */
export interface SweepSummary {
  sweepId: string;
  /** done: every agent seen; paused: the time budget ran out (the next run resumes); busy: another run holds the lease. */
  outcome: 'done' | 'paused' | 'busy' | 'lease-lost';
  mode: SweepState['mode'];
  runs: number;
  agentsSeen: number;
  expiring: number;
  expired: number;
  pastGrace: number;
  orphaned: number;
  protected: number;
  noEndDate: number;
  actions: { warned: number; disableCases: number; deleteCases: number; orphanTickets: number; total: number };
  alreadyHandled: number;
  errors: number;
  /** Time spent in runs, summed over the runs of this sweep. */
  durationMs: number;
  pages: number;
  graphRequests: GraphTally & { total: number };
}

export const SWEEP_BUDGET_MS = 8 * 60_000;
export const SWEEP_LEASE_MS = 2 * 60_000;
export const SWEEP_AUDIT_SCOPE = 'lifecycle-sweeps';

/**
 * The expiry sweep: streams the agent inventory one page at a time (the next page is fetched while the current
 * one is processed), applies the lifecycle rules to each page, and checkpoints its position and counts after
 * every page. A lease in the checkpoint keeps overlapping runs from working on the same sweep; a run cut short
 * resumes where the last checkpoint left it.
 */
export async function runLifecycleSweep(deps: SweepDeps, opts: SweepOptions): Promise<SweepSummary> {
  const started = deps.now();
  const budgetMs = opts.budgetMs ?? SWEEP_BUDGET_MS;
  const leaseMs = opts.leaseMs ?? SWEEP_LEASE_MS;
  const checkpoint = await SweepCheckpoint.open(deps.storage);
  const acquired = await checkpoint.acquire(opts.invocationId, opts.mode ?? deps.config.RESPONDER_MODE, started, leaseMs);
  if (acquired.busy) {
    const summary = summarize(acquired.state, 'busy');
    opts.log.info(JSON.stringify({ lifecycleSweep: summary, msg: 'another run holds the sweep lease; nothing done' }));
    return summary;
  }
  const state = acquired.state;
  let etag = acquired.etag;
  const tally = emptyTally();
  const graph = countingGraph(deps.graph, tally);
  const ctx = { deps, graph, state, responderId: await deps.responderId().catch(() => undefined), book: new AddressBook(graph), log: opts.log };
  const inventory = { agentTag: deps.config.LIFECYCLE_AGENT_TAG, withAttributes: deps.config.LIFECYCLE_EXPIRY_ATTRIBUTE !== undefined };
  // A page is read and its sponsors and owners fetched while the rules act on the page before it.
  const fetchPage = (cursor: InventoryCursor): Promise<PreparedPage & { next: InventoryCursor | undefined }> => {
    const p = fetchInventoryPage(graph, cursor, inventory).then(async (page) => ({ ...(await preparePage(ctx, page.agents)), next: page.next }));
    p.catch(() => undefined); // a page read ahead may be abandoned when the run stops; its failure is seen when awaited
    return p;
  };
  let mark = started;
  const record = (): void => {
    const t = deps.now();
    state.activeMs += t - mark;
    mark = t;
    state.graph.pages += tally.pages;
    state.graph.batches += tally.batches;
    state.graph.other += tally.other;
    Object.assign(tally, emptyTally());
  };

  let next = state.cursor ? fetchPage(state.cursor) : undefined;
  let outcome: SweepSummary['outcome'] = 'done';
  try {
    while (next) {
      const page = await next;
      // Read ahead while this page is processed, unless the budget is spent already.
      next = page.next && deps.now() - started < budgetMs ? fetchPage(page.next) : undefined;
      await sweepPage(ctx, page);
      state.cursor = page.next;
      state.pages++;
      record();
      if (!page.next) {
        state.status = 'done';
        state.finishedAt = new Date(deps.now()).toISOString();
        state.leaseUntil = 0;
      } else if (!next || deps.now() - started >= budgetMs) {
        next = undefined;
        outcome = 'paused';
        state.leaseUntil = 0; // the next run may resume at once
      } else {
        state.leaseUntil = deps.now() + leaseMs;
      }
      etag = await checkpoint.save(state, etag);
    }
  } catch (err) {
    if (err instanceof SweepLeaseLostError) {
      outcome = 'lease-lost';
      opts.log.warn(JSON.stringify({ sweepId: state.sweepId, msg: 'another run took the sweep over; this run stops' }));
    } else {
      // Give the lease back at the last checkpoint, so the next run resumes there without waiting for it to expire.
      opts.log.error(JSON.stringify({ sweepId: state.sweepId, msg: 'sweep run failed; resumes from the last checkpoint', error: ensureError(err).message }));
      const saved = await checkpoint.read().catch(() => undefined);
      if (saved && saved.owner === opts.invocationId) {
        await checkpoint.save({ ...saved, leaseUntil: 0 }, etag).catch(() => undefined);
      }
      throw err;
    }
  }
  const summary = summarize(state, outcome);
  await deps.audit.write({
    action: outcome === 'done' ? 'lifecycle.sweep' : 'lifecycle.sweep-run',
    scope: SWEEP_AUDIT_SCOPE,
    actor: 'system',
    result: summary.errors > 0 ? 'failed' : state.mode === 'report-only' ? 'would-do' : 'ok',
    detail: JSON.stringify(summary),
  });
  opts.log.info(JSON.stringify({ lifecycleSweep: summary }));
  return summary;
}

function summarize(state: SweepState, outcome: SweepSummary['outcome']): SweepSummary {
  const c: SweepCounts = state.counts;
  const g = state.graph;
  return {
    sweepId: state.sweepId,
    outcome,
    mode: state.mode,
    runs: state.runs,
    agentsSeen: c.seen,
    expiring: c.expiring,
    expired: c.expired,
    pastGrace: c.pastGrace,
    orphaned: c.orphaned,
    protected: c.protected,
    noEndDate: c.noEndDate,
    actions: { warned: c.warned, disableCases: c.disableCases, deleteCases: c.deleteCases, orphanTickets: c.orphanTickets, total: c.warned + c.disableCases + c.deleteCases + c.orphanTickets },
    alreadyHandled: c.alreadyHandled,
    errors: c.errors,
    durationMs: state.activeMs,
    pages: state.pages,
    graphRequests: { ...g, total: g.pages + g.batches + g.other },
  };
}
