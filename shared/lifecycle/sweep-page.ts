import type { Config } from '../config';
import { checkGuardrails } from '../plans/guardrails';
import { ensureError } from '../errors';
import type { InventoryAgent } from '../graph/agent-inventory';
import type { Graph } from '../graph/graph-client';
import { KIND_LABEL } from '../graph/identity-kind';
import { sendMail } from '../graph/mail';
import { listSponsorsAndOwners, type Accountable } from '../graph/sponsors';
import type { Logger } from '../logger';
import type { AuditLog } from '../store/audit-log';
import type { CaseStore } from '../store/case-store';
import type { KeyStore } from '../store/key-store';
import type { Storage } from '../store/storage';
import type { TicketProvider } from '../tickets/ticket-provider';
import type { AddressBook } from './address-book';
import { readEndOfLife, type EndOfLife } from './end-of-life';
import { daysUntil, lifecyclePhase } from './lifecycle-phase';
import { openLifecycleCase, targetOfAgent } from './lifecycle-case';
import { mapLimit } from '../async/map-limit';
import type { SweepCounts, SweepState } from './sweep-checkpoint';

/** What the sweep needs from the app's dependencies. */
export interface SweepDeps {
  config: Config;
  graph: Graph;
  cases: CaseStore;
  keys: KeyStore;
  audit: AuditLog;
  tickets: TicketProvider;
  storage: Storage;
  responderId: () => Promise<string | undefined>;
  now: () => number;
}

export interface PageContext {
  deps: SweepDeps;
  /** The sweep's Graph client (counted for the summary). */
  graph: Graph;
  state: SweepState;
  responderId: string | undefined;
  book: AddressBook;
  log: Logger;
}

type Action = 'warn' | 'disable' | 'delete' | 'orphan';

interface Decision {
  agent: InventoryAgent;
  end: EndOfLife | undefined;
  accountable: Accountable | undefined;
  /** Its sponsors or owners could not be read this time. */
  unreadable: boolean;
  actions: Action[];
}

/** `$batch` takes 20 requests: sponsors and owners of 10 agents. */
const AGENTS_PER_BATCH = 10;
/** `$batch` calls in flight per page. */
const BATCH_CONCURRENCY = 10;
/** Agents acted on at once (storage writes, mail, tickets). */
const ACTION_CONCURRENCY = 8;

export const WARN_CLAIMS = 'lifecycle-warn';
export const ORPHAN_CLAIMS = 'lifecycle-orphan';

const COUNTER: Record<Action, keyof SweepCounts> = { warn: 'warned', disable: 'disableCases', delete: 'deleteCases', orphan: 'orphanTickets' };

/** An inventory page with the sponsors and owners of its agents, ready for the rules. */
export interface PreparedPage {
  agents: readonly InventoryAgent[];
  accountable: Map<string, Accountable>;
  /** Agents whose sponsors or owners could not be read. */
  unreadable: Set<string>;
}

/**
 * Reads the sponsors and owners of every agent of a page: two reads per agent, 20 reads per `$batch` call,
 * a few calls in flight. Done for the next page while the rules act on the current one.
 */
export async function preparePage(ctx: Pick<PageContext, 'graph' | 'log' | 'state'>, agents: readonly InventoryAgent[]): Promise<PreparedPage> {
  const accountable = new Map<string, Accountable>();
  const unreadable = new Set<string>();
  const groups: InventoryAgent[][] = [];
  for (let i = 0; i < agents.length; i += AGENTS_PER_BATCH) {
    groups.push(agents.slice(i, i + AGENTS_PER_BATCH));
  }
  await mapLimit(groups, BATCH_CONCURRENCY, async (group) => {
    try {
      const result = await listSponsorsAndOwners(ctx.graph, group);
      for (const [id, acc] of result.byId) {
        accountable.set(id, acc);
      }
      for (const id of result.errors.keys()) {
        unreadable.add(id);
      }
    } catch (err) {
      group.forEach((a) => unreadable.add(a.id));
      ctx.log.warn(JSON.stringify({ sweepId: ctx.state.sweepId, msg: 'sponsors/owners not read', agents: group.length, error: ensureError(err).message }));
    }
  });
  return { agents, accountable, unreadable };
}

/**
 * Applies the lifecycle rules to one prepared page: per agent, warns ahead of the end date, opens a disable
 * case once expired, opens a deletion case (held for approval) past the grace period, and tickets an
 * orphan. Each action happens once per agent and end date, whatever the number of sweeps or overlapping
 * runs; report-only mode records what would happen in the audit and changes nothing.
 */
export async function sweepPage(ctx: PageContext, page: PreparedPage): Promise<void> {
  const counts = ctx.state.counts;
  const now = ctx.deps.now();
  const config = ctx.deps.config;
  const decisions = page.agents.map((agent) => decide(ctx, agent, page.accountable.get(agent.id), page.unreadable.has(agent.id), now));
  counts.seen += page.agents.length;
  counts.errors += page.unreadable.size;

  const enforce = ctx.state.mode === 'enforce';
  const warnings = decisions.filter((d) => d.actions.includes('warn'));
  if (enforce && config.APPROVAL_MAIL_SENDER && warnings.length > 0) {
    const ids = warnings.flatMap((d) => [...(d.accountable?.sponsors ?? []), ...(d.accountable?.owners ?? [])]);
    await ctx.book.load(ids).catch((err: unknown) => ctx.log.warn(JSON.stringify({ sweepId: ctx.state.sweepId, msg: 'sponsor addresses not resolved', error: ensureError(err).message })));
  }
  const work = decisions.flatMap((d) => d.actions.map((action) => ({ decision: d, action })));
  await mapLimit(work, ACTION_CONCURRENCY, async ({ decision, action }) => {
    try {
      await (enforce ? act(ctx, decision, action, now) : recordWouldDo(ctx, decision, action, now));
    } catch (err) {
      counts.errors++;
      ctx.log.error(JSON.stringify({ sweepId: ctx.state.sweepId, agent: decision.agent.id, action, error: ensureError(err).message }));
      await audit(ctx, decision, action, 'failed', ensureError(err).message).catch(() => undefined);
    }
  });
}

function decide(ctx: PageContext, agent: InventoryAgent, accountable: Accountable | undefined, unreadable: boolean, now: number): Decision {
  const { config } = ctx.deps;
  const counts = ctx.state.counts;
  const end = readEndOfLife(agent, { attribute: config.LIFECYCLE_EXPIRY_ATTRIBUTE, tagPrefix: config.LIFECYCLE_EXPIRY_TAG_PREFIX });
  const actions: Action[] = [];
  // An unreadable list is not an empty one: never call an agent orphaned on a failed read.
  if (accountable && !unreadable && accountable.sponsors.length === 0 && accountable.owners.length === 0) {
    counts.orphaned++;
    actions.push('orphan');
  }
  if (!end) {
    counts.noEndDate++;
    return { agent, end, accountable, unreadable, actions };
  }
  const phase = lifecyclePhase(end.date, now, { warnDays: config.LIFECYCLE_WARN_DAYS, graceDays: config.LIFECYCLE_GRACE_DAYS });
  if (phase === 'expiring') {
    counts.expiring++;
    actions.push('warn');
  } else if (phase === 'expired' || phase === 'past-grace') {
    counts.expired++;
    counts.pastGrace += phase === 'past-grace' ? 1 : 0;
    const verdict = checkGuardrails({ target: targetOfAgent(agent, ''), responderId: ctx.responderId, config, unverifiable: false, approved: false });
    if (verdict.action === 'skip') {
      counts.protected++;
    } else {
      if (agent.accountEnabled !== false) {
        actions.push('disable');
      }
      if (phase === 'past-grace' && config.LIFECYCLE_DELETE_ENABLED) {
        actions.push('delete');
      }
    }
  }
  return { agent, end, accountable, unreadable, actions };
}

function describe(agent: InventoryAgent): string {
  return `${KIND_LABEL[agent.kind]} "${agent.displayName ?? agent.id}" (${agent.id})`;
}

function wouldText(d: Decision, action: Action, now: number): string {
  const end = d.end?.date ?? '';
  switch (action) {
    case 'warn':
      return `warn sponsors and owners: end of lifecycle ${end} in ${daysUntil(end, now)} day(s)`;
    case 'disable':
      return `disable: end of lifecycle ${end} has passed`;
    case 'delete':
      return `request approval to delete: end of lifecycle ${end} is past the grace period`;
    case 'orphan':
      return 'ticket an orphaned agent: no sponsor and no owner';
  }
}

async function audit(ctx: PageContext, d: Decision, action: Action, result: 'ok' | 'failed' | 'would-do', detail: string): Promise<void> {
  await ctx.deps.audit.write({ action: `lifecycle.${action}`, scope: `sweep:${ctx.state.sweepId}`, actor: 'system', targetId: d.agent.id, result, detail });
}

async function recordWouldDo(ctx: PageContext, d: Decision, action: Action, now: number): Promise<void> {
  ctx.state.counts[COUNTER[action]]++;
  await audit(ctx, d, action, 'would-do', `report-only: would ${wouldText(d, action, now)}`);
}

async function act(ctx: PageContext, d: Decision, action: Action, now: number): Promise<void> {
  const counts = ctx.state.counts;
  const { deps } = ctx;
  const end = d.end;
  let outcome: 'done' | 'handled';
  if ((action === 'disable' || action === 'delete') && end) {
    const result = await openLifecycleCase(deps, d.agent, action === 'disable' ? 'expire' : 'delete', end, 'enforce', now);
    outcome = result === 'created' ? 'done' : 'handled';
  } else if (action === 'warn' && end) {
    outcome = await warn(ctx, d, end, now);
  } else if (action === 'orphan') {
    outcome = await ticketOrphan(ctx, d);
  } else {
    return;
  }
  if (outcome === 'handled') {
    counts.alreadyHandled++;
    return;
  }
  counts[COUNTER[action]]++;
  await audit(ctx, d, action, 'ok', wouldText(d, action, now));
}

/** Mails sponsors and owners once per agent and end date (claimed first, given back if the mail fails). */
async function warn(ctx: PageContext, d: Decision, end: EndOfLife, now: number): Promise<'done' | 'handled'> {
  const sender = ctx.deps.config.APPROVAL_MAIL_SENDER;
  if (!sender) {
    throw new Error('cannot warn: APPROVAL_MAIL_SENDER is not set');
  }
  const ids = [...(d.accountable?.sponsors ?? []), ...(d.accountable?.owners ?? [])];
  // Unread sponsors, or addresses not looked up, are no reason to give up: the next sweep tries again.
  if (d.unreadable || !ctx.book.knows(ids)) {
    throw new Error('cannot warn yet: sponsors, owners or their addresses could not be read');
  }
  const key = `${d.agent.id}|${end.date}`;
  const claim = await ctx.deps.keys.claim(WARN_CLAIMS, key, ctx.state.sweepId);
  if (!claim.claimed) {
    return 'handled';
  }
  const to = ctx.book.addresses(ids);
  try {
    if (to.length === 0) {
      throw new Error('no sponsor or owner with a mailbox to warn');
    }
    const days = daysUntil(end.date, now);
    await sendMail(ctx.graph, sender, {
      to,
      subject: `[Agent responders] ${d.agent.displayName ?? d.agent.id} reaches its end of lifecycle on ${end.date}`,
      text: [
        `The ${describe(d.agent)}, which you sponsor or own, reaches its end of lifecycle on ${end.date} (in ${days} day(s)).`,
        '',
        'On that date the agent responders disable it; after the grace period it may be deleted (with approval).',
        `To keep it, move its end date (the ${end.from === 'tag' ? `"${ctx.deps.config.LIFECYCLE_EXPIRY_TAG_PREFIX}YYYY-MM-DD" tag` : `custom security attribute ${ctx.deps.config.LIFECYCLE_EXPIRY_ATTRIBUTE ?? ''}`}) before then.`,
      ].join('\n'),
    });
  } catch (err) {
    // A recipient-less agent stays claimed (retrying hourly would not help); a failed send is retried next sweep.
    if (to.length > 0) {
      await ctx.deps.keys.release(WARN_CLAIMS, key);
    }
    throw err;
  }
  return 'done';
}

/** One ticket per orphaned agent, once (claimed first, given back if the ticket fails). */
async function ticketOrphan(ctx: PageContext, d: Decision): Promise<'done' | 'handled'> {
  const claim = await ctx.deps.keys.claim(ORPHAN_CLAIMS, d.agent.id, ctx.state.sweepId);
  if (!claim.claimed) {
    return 'handled';
  }
  try {
    await ctx.deps.tickets.open({
      key: `agent-responders:orphan:${d.agent.id}`,
      title: `[Agent responders] orphaned agent: ${d.agent.displayName ?? d.agent.id}`,
      text: [
        `The ${describe(d.agent)} has no sponsor and no owner: nobody is accountable for it.`,
        d.end ? `End of lifecycle: ${d.end.date}.` : 'It has no end of lifecycle set.',
        '',
        'Assign a sponsor (or an owner), or disable it if it is no longer needed.',
        `Found by lifecycle sweep ${ctx.state.sweepId}.`,
      ].join('\n'),
      severity: 'Low',
      caseId: `sweep:${ctx.state.sweepId}`,
    });
  } catch (err) {
    await ctx.deps.keys.release(ORPHAN_CLAIMS, d.agent.id);
    throw err;
  }
  return 'done';
}
