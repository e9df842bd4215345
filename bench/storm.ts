import { QueueClient } from '@azure/storage-queue';
import { startBenchStack, REPO_ROOT, type BenchStack, type StorageAccounts } from './bench-stack';
import { generateAgents } from './contain-runner';
import { mapLimit, sleep } from './map-limit';
import { cpuBetween, processCpu } from './process-cpu';
import { seededRandom } from './seeded-random';
import { sentinelIncident, type BenchIncident } from './sentinel-incident';
import { shortLeaseAppDir } from './short-lease-app-dir';
import { summarize, type Summary } from './summarize';
import { tallyUpstreamCalls, type UpstreamTally } from './tally-upstream-calls';

export interface StormOptions {
  label: string;
  /** Storage account of the benchmark's Azurite for this run. */
  account: string;
  alerts: number;
  agents: number;
  /** Alerts that repeat an earlier incident body exactly (a playbook retried, or two rules firing). */
  duplicates: number;
  /** Requests in flight at once, as many playbook runs would post. */
  concurrency: number;
  /** Simulated Graph/ARM latency per call. */
  latencyMs: number;
  /** 429 and 503 on this fraction of Graph/ARM calls (half each), and 1% of connections dropped. */
  faultRate: number;
  dropRate: number;
  /** SIGKILL the host once half the agents are disabled, and start a new one on the same storage. */
  killMidRun: boolean;
  timeoutMs: number;
}

export interface StormCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface StormResult {
  label: string;
  alerts: number;
  agents: number;
  distinctIncidents: number;
  targetMentions: number;
  concurrency: number;
  latencyMs: number;
  faultRate: number;
  dropRate: number;
  intake: { wallMs: number; alertsPerSecond: number; latencyMs: Summary; answers: Record<string, number>; retriedPosts: number; retriedAnswers: Record<string, number> };
  /** Storm start → the last agent's disable acknowledged by Graph. */
  allDisabledMs: number;
  /** Storm start → every case finished and the queue empty. */
  completeMs: number;
  kill?: { atMs: number; disabledBefore: number; hostBackAfterMs: number; functionTimeout: string };
  /** CPU seconds per process during intake and over the whole storm (2 cores: 2 CPU-seconds per second at most). */
  cpuSeconds: { intake: Record<string, number>; total: Record<string, number> };
  /** First lines of host output mentioning an error. */
  hostErrors: string[];
  calls: UpstreamTally;
  minimum: { disables: number; confirmCompromised: number; getByIds: number };
  cases: { total: number; ran: number; allTargetsJoined: number; byStatus: Record<string, number> };
  tickets: number;
  /** Disables acknowledged more than once for the same agent (each explained by the crash, or a bug). */
  repeatedDisables: { agent: string; acknowledgedAt: number[] }[];
  checks: StormCheck[];
}

interface PostOutcome {
  status: number;
  /** Answers of the attempts that were retried (status, or 0 for a dropped connection). */
  retried: number[];
  caseId?: string;
  latencyMs: number;
  attempts: number;
}

interface CaseView {
  caseId: string;
  status: string;
  targets: { key: string; objectId?: string; status: string }[];
}

const FUNCTION_TIMEOUT_FOR_CRASH = '00:00:30';
const IDS_PER_CONFIRM = 60;
const IDS_PER_GET_BY_IDS = 1000;

/**
 * The storm: `alerts` incident-trigger bodies naming `agents` distinct agents (1–4 per alert, every agent named
 * several times, some bodies posted twice), all posted concurrently through the local host, with Identity
 * Protection limited to 1 request/s as in Entra. Every incident exists in the simulator's Sentinel with the
 * same entities, so verification at the source runs as in production. Then checks that nothing was lost or
 * done twice: each agent disabled once, contained by exactly one case, one ticket per case that acted.
 */
export async function benchStorm(storage: StorageAccounts, opts: StormOptions, log: (line: string) => void): Promise<StormResult> {
  const appDir = opts.killMidRun ? shortLeaseAppDir(REPO_ROOT, FUNCTION_TIMEOUT_FOR_CRASH) : undefined;
  const stack = await startBenchStack({
    storage,
    account: opts.account,
    knobs: { identityProtectionThrottle: true },
    ...(appDir ? { appDir: appDir.dir } : {}),
  });
  try {
    return await runStorm(stack, opts, log);
  } finally {
    await stack.stop();
    appDir?.remove();
  }
}

async function runStorm(stack: BenchStack, opts: StormOptions, log: (line: string) => void): Promise<StormResult> {
  const { sim, host } = stack;
  const agents = await generateAgents(sim, opts.agents);
  const { incidents, posts, mentions } = buildStorm(agents, opts.alerts, opts.duplicates);
  for (const incident of incidents) {
    sim.state.putIncident(incident.seed);
  }
  const bodies = incidents.map((i) => JSON.stringify(i.triggerBody));
  await warmUp(stack);
  sim.calls.length = 0;
  sim.setKnobs({
    latencyMs: opts.latencyMs,
    throttleRate: opts.faultRate / 2,
    // The knobs draw 429 first, then 503 from what is left: this makes the two halves equal.
    errorRate: opts.faultRate / 2 / (1 - opts.faultRate / 2),
    dropRate: opts.dropRate,
  });

  const disabledCount = (): number => agents.reduce((n, id) => n + (sim.state.get(id)?.accountEnabled === false ? 1 : 0), 0);
  const cpuAtStart = processCpu();
  const start = Date.now();
  let kill: StormResult['kill'];
  let killing: Promise<void> | undefined;
  let posting = true;
  const monitor = (async () => {
    let lastLog = start;
    for (;;) {
      const disabled = disabledCount();
      if (opts.killMidRun && killing === undefined && disabled >= opts.agents / 2) {
        const atMs = Date.now() - start;
        killing = (async () => {
          await host.kill();
          log(`${opts.label}: host killed at ${atMs} ms with ${disabled}/${opts.agents} agents disabled; starting a new one`);
          await host.restart();
          kill = { atMs, disabledBefore: disabled, hostBackAfterMs: Date.now() - start - atMs, functionTimeout: FUNCTION_TIMEOUT_FOR_CRASH };
        })();
      }
      if (!posting && (!opts.killMidRun || killing !== undefined)) {
        return;
      }
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`${opts.label}: ${Math.round((Date.now() - start) / 1000)} s, ${disabled}/${opts.agents} disabled`);
      }
      if (Date.now() - start > opts.timeoutMs) {
        return;
      }
      await sleep(25);
    }
  })();

  const outcomes = await mapLimit(posts, opts.concurrency, (i) => postWithRetry(host.url, bodies[i] as string));
  const intakeEnd = Date.now();
  const cpuAtIntakeEnd = processCpu();
  posting = false;
  await monitor;
  await killing;

  const queue = new QueueClient(stack.env['AzureWebJobsStorage'] as string, 'containment');
  const poison = new QueueClient(stack.env['AzureWebJobsStorage'] as string, 'containment-poison');
  let lastLog = Date.now();
  for (;;) {
    const disabled = disabledCount();
    const queued = (await queue.getProperties()).approximateMessagesCount ?? 0;
    if (disabled === opts.agents && queued === 0) {
      break;
    }
    if (Date.now() - start > opts.timeoutMs) {
      throw new Error(`${opts.label}: not finished after ${opts.timeoutMs} ms: ${disabled}/${opts.agents} disabled, ${queued} message(s) queued\n${host.output().slice(-4000)}`);
    }
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(`${opts.label}: ${Math.round((Date.now() - start) / 1000)} s, ${disabled}/${opts.agents} disabled, ${queued} message(s) queued`);
    }
    await sleep(100);
  }
  const completeMs = Date.now() - start;
  const cpuAtEnd = processCpu();
  sim.setKnobs({ latencyMs: 0, throttleRate: 0, errorRate: 0, dropRate: 0 });

  const firstDisable = new Map<string, number[]>();
  for (const c of sim.calls) {
    if (c.service === 'graph' && c.method === 'PATCH' && c.status >= 200 && c.status < 300) {
      const id = /servicePrincipals\/([^/]+)/.exec(c.path)?.[1];
      if (id) {
        firstDisable.set(id, [...(firstDisable.get(id) ?? []), c.at]);
      }
    }
  }
  const lastFirstDisable = Math.max(...agents.map((id) => firstDisable.get(id)?.[0] ?? Number.NaN));
  const caseIds = [...new Set(outcomes.map((o) => o.caseId).filter((id): id is string => id !== undefined))];
  const cases = await mapLimit(caseIds, 16, (id) => getCase(host.url, id));
  const poisoned = (await poison.exists()) ? ((await poison.getProperties()).approximateMessagesCount ?? 0) : 0;
  const repeatedDisables = [...firstDisable].filter(([, at]) => at.length > 1).map(([agent, acknowledgedAt]) => ({ agent, acknowledgedAt }));
  const checks = verifyStorm({ opts, agents, outcomes, cases, sim: stack.sim, poisoned, repeatedDisables, killAt: kill ? start + kill.atMs : undefined });

  const answers = countBy(outcomes.map((o) => o.status));
  const byStatus = countBy(cases.map((c) => c.status));
  const ran = cases.filter((c) => c.targets.some((t) => t.status !== 'joined')).length;
  const result: StormResult = {
    label: opts.label,
    alerts: opts.alerts,
    agents: opts.agents,
    distinctIncidents: incidents.length,
    targetMentions: mentions,
    concurrency: opts.concurrency,
    latencyMs: opts.latencyMs,
    faultRate: opts.faultRate,
    dropRate: opts.dropRate,
    intake: {
      wallMs: intakeEnd - start,
      alertsPerSecond: Math.round((opts.alerts / ((intakeEnd - start) / 1000)) * 10) / 10,
      latencyMs: summarize(outcomes.map((o) => o.latencyMs)),
      answers,
      retriedPosts: outcomes.filter((o) => o.attempts > 1).length,
      retriedAnswers: countBy(outcomes.flatMap((o) => o.retried)),
    },
    allDisabledMs: lastFirstDisable - start,
    completeMs,
    ...(kill ? { kill } : {}),
    cpuSeconds: { intake: cpuBetween(cpuAtStart, cpuAtIntakeEnd), total: cpuBetween(cpuAtStart, cpuAtEnd) },
    hostErrors: host.output().split('\n').filter((l) => /error/i.test(l)).slice(0, 5),
    calls: tallyUpstreamCalls(sim.calls),
    minimum: { disables: opts.agents, confirmCompromised: Math.ceil(opts.agents / IDS_PER_CONFIRM), getByIds: Math.ceil(opts.agents / IDS_PER_GET_BY_IDS) },
    cases: { total: cases.length, ran, allTargetsJoined: cases.length - ran, byStatus },
    tickets: sim.state.tickets.servicenow.length,
    repeatedDisables,
    checks,
  };
  log(`${opts.label}: ${result.intake.alertsPerSecond} alerts/s, intake p99 ${result.intake.latencyMs.p99} ms, all disabled at ${result.allDisabledMs} ms, complete at ${completeMs} ms; checks ${checks.every((c) => c.ok) ? 'passed' : 'FAILED'}`);
  return result;
}

/**
 * Distinct incidents naming 1–4 agents each (every agent first named by incident `i % agents`, so all are
 * covered), then `duplicates` exact repeats of random incidents, the whole sequence shuffled.
 */
export function buildStorm(agents: readonly string[], alerts: number, duplicates: number): { incidents: BenchIncident[]; posts: number[]; mentions: number } {
  const rand = seededRandom(2000);
  const distinct = alerts - duplicates;
  const incidents: BenchIncident[] = [];
  let mentions = 0;
  for (let i = 0; i < distinct; i++) {
    const named = new Set([agents[i % agents.length] as string]);
    const count = 1 + Math.floor(rand() * 4);
    while (named.size < count) {
      named.add(agents[Math.floor(rand() * agents.length)] as string);
    }
    mentions += named.size;
    incidents.push(sentinelIncident(10_000 + i, [...named], `Storm incident ${i}`));
  }
  const posts = [...incidents.keys()];
  for (let i = 0; i < duplicates; i++) {
    posts.push(Math.floor(rand() * distinct));
  }
  for (let i = posts.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [posts[i], posts[j]] = [posts[j] as number, posts[i] as number];
  }
  return { incidents, posts, mentions };
}

/** One containment outside the storm: token, tables, queue and JIT are cold-start costs, not storm costs. */
async function warmUp(stack: BenchStack): Promise<void> {
  const [agent] = await generateAgents(stack.sim, 1);
  const incident = sentinelIncident(1, [agent as string], 'Warm-up');
  stack.sim.state.putIncident(incident.seed);
  const outcome = await postWithRetry(stack.host.url, JSON.stringify(incident.triggerBody));
  const deadline = Date.now() + 30_000;
  while (stack.sim.state.tickets.servicenow.length === 0) {
    if (Date.now() > deadline || outcome.status !== 202) {
      throw new Error(`warm-up containment did not finish (POST answered ${outcome.status})\n${stack.host.output().slice(-3000)}`);
    }
    await sleep(20);
  }
  stack.sim.state.tickets.servicenow.length = 0;
}

/**
 * A playbook's POST: a dropped connection or a 5xx/429 is retried (a Logic App's default policy retries
 * these), so a host killed mid-request loses nothing as long as the intake deduplicates the retry.
 */
async function postWithRetry(url: string, body: string): Promise<PostOutcome> {
  const retried: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const t0 = Date.now();
    try {
      const res = await fetch(`${url}/api/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await res.text();
      if ((res.status >= 500 || res.status === 429) && attempt < 60) {
        retried.push(res.status);
        await sleep(250);
        continue;
      }
      const caseId = parseCaseId(text);
      return { status: res.status, retried, latencyMs: Date.now() - t0, attempts: attempt, ...(caseId ? { caseId } : {}) };
    } catch {
      if (attempt >= 60) {
        return { status: 0, retried, latencyMs: Date.now() - t0, attempts: attempt };
      }
      retried.push(0);
      await sleep(250);
    }
  }
}

function parseCaseId(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { caseId?: unknown };
    return typeof body.caseId === 'string' ? body.caseId : undefined;
  } catch {
    return undefined;
  }
}

async function getCase(url: string, caseId: string): Promise<CaseView> {
  const res = await fetch(`${url}/api/cases/${caseId}`);
  if (!res.ok) {
    return { caseId, status: `http-${res.status}`, targets: [] };
  }
  return (await res.json()) as CaseView;
}

function verifyStorm(input: {
  opts: StormOptions;
  agents: readonly string[];
  outcomes: readonly PostOutcome[];
  cases: readonly CaseView[];
  sim: BenchStack['sim'];
  poisoned: number;
  repeatedDisables: StormResult['repeatedDisables'];
  killAt: number | undefined;
}): StormCheck[] {
  const { opts, agents, outcomes, cases, sim, poisoned, repeatedDisables, killAt } = input;
  const checks: StormCheck[] = [];
  const check = (name: string, ok: boolean, detail: string): void => {
    checks.push({ name, ok, detail });
  };

  const unanswered = outcomes.filter((o) => o.status !== 202 && o.status !== 200);
  check('every alert accepted (202, or 200 for a repeat)', unanswered.length === 0, unanswered.length === 0 ? `${outcomes.length} accepted` : `${unanswered.length} not accepted, e.g. ${unanswered[0]?.status}`);

  const enabled = agents.filter((id) => sim.state.get(id)?.accountEnabled !== false);
  check(`all ${opts.agents} agents disabled`, enabled.length === 0, enabled.length === 0 ? 'accountEnabled false for all' : `${enabled.length} still enabled`);

  const disables = tallyUpstreamCalls(sim.calls).graph.disable.ok;
  const unexplained = repeatedDisables.filter((r) => killAt === undefined || !((r.acknowledgedAt[0] ?? 0) < killAt && (r.acknowledgedAt[1] ?? 0) > killAt));
  check(
    `exactly ${opts.agents} disables`,
    disables === opts.agents || (killAt !== undefined && unexplained.length === 0 && disables === opts.agents + repeatedDisables.length),
    repeatedDisables.length === 0
      ? `${disables} acknowledged`
      : `${disables} acknowledged; ${repeatedDisables.length} agent(s) disabled twice, ${unexplained.length} not explained by the crash (e.g. ${(unexplained[0] ?? repeatedDisables[0])?.agent})`,
  );

  const containedBy = new Map<string, string[]>();
  for (const c of cases) {
    for (const t of c.targets) {
      if (t.status === 'contained' && t.objectId) {
        containedBy.set(t.objectId, [...(containedBy.get(t.objectId) ?? []), c.caseId]);
      }
    }
  }
  const twice = [...containedBy].filter(([, ids]) => ids.length > 1);
  const never = agents.filter((id) => !containedBy.has(id));
  check('each agent contained by exactly one case', twice.length === 0 && never.length === 0, `${containedBy.size} agents contained; ${twice.length} by two or more cases${twice[0] ? ` (e.g. ${twice[0][0]} by ${twice[0][1].join(', ')})` : ''}; ${never.length} by none`);

  const unfinished = cases.filter((c) => c.status !== 'done');
  check('every case done', unfinished.length === 0, unfinished.length === 0 ? `${cases.length} cases done` : `${unfinished.length} not done: ${[...new Set(unfinished.map((c) => c.status))].join(', ')} (e.g. ${unfinished[0]?.caseId})`);

  const ticketsByCase = new Map<string, number>();
  for (const t of sim.state.tickets.servicenow) {
    const key = typeof t.fields['correlation_id'] === 'string' ? t.fields['correlation_id'] : '';
    ticketsByCase.set(key, (ticketsByCase.get(key) ?? 0) + 1);
  }
  const wrongTickets = cases.filter((c) => {
    const acted = c.targets.some((t) => t.status !== 'joined');
    return (ticketsByCase.get(`agent-responders:${c.caseId}`) ?? 0) !== (acted ? 1 : 0);
  });
  const strayTickets = [...ticketsByCase.keys()].filter((k) => !cases.some((c) => `agent-responders:${c.caseId}` === k));
  check('one ticket per case that acted, none twice', wrongTickets.length === 0 && strayTickets.length === 0, `${sim.state.tickets.servicenow.length} tickets; ${wrongTickets.length} case(s) with a wrong count${wrongTickets[0] ? ` (e.g. ${wrongTickets[0].caseId}: ${ticketsByCase.get(`agent-responders:${wrongTickets[0].caseId}`) ?? 0})` : ''}; ${strayTickets.length} for unknown cases`);

  const unconfirmed = agents.filter((id) => sim.state.get(id)?.riskState !== 'confirmedCompromised');
  check('risk confirmed compromised for every agent', unconfirmed.length === 0, `${agents.length - unconfirmed.length} confirmed`);

  check('nothing in the poison queue', poisoned === 0, `${poisoned} poison message(s)`);
  return checks;
}

function countBy(values: readonly (string | number)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  values.forEach((v) => (counts[String(v)] = (counts[String(v)] ?? 0) + 1));
  return counts;
}
