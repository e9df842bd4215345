import { QueueClient } from '@azure/storage-queue';
import { startBenchStack, REPO_ROOT, type BenchStack, type StorageAccounts } from './bench-stack';
import { generateAgents } from './contain-runner';
import { mapLimit, sleep } from './map-limit';
import { cpuBetween, processCpu } from './process-cpu';
import { buildStorm } from './build-storm';
import { checkExactlyOnce, type CaseView, type RepeatedDisable, type StormCheck } from './check-exactly-once';
import { playbookHeaders } from './playbook-headers';
import { postAlert } from './post-alert';
import { sentinelIncident } from './sentinel-incident';
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

export interface StormResult {
  label: string;
  /** Epoch ms of the first POST: the origin of every duration below. */
  startedAt: number;
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
  /** atMs: the kill decided; respawnAtMs: the old host dead, the new one spawned; hostBackAfterMs: new host ready, after atMs. */
  kill?: { atMs: number; respawnAtMs: number; disabledBefore: number; hostBackAfterMs: number; functionTimeout: string };
  /** CPU seconds per process during intake and over the whole storm (2 cores: 2 CPU-seconds per second at most). */
  cpuSeconds: { intake: Record<string, number>; total: Record<string, number> };
  /** First lines of host output mentioning an error. */
  hostErrors: string[];
  calls: UpstreamTally;
  minimum: { disables: number; confirmCompromised: number; getByIds: number };
  cases: { total: number; ran: number; allTargetsJoined: number; byStatus: Record<string, number> };
  tickets: number;
  /** Disables acknowledged more than once for the same agent (each explained by the crash, or a bug). */
  repeatedDisables: RepeatedDisable[];
  checks: StormCheck[];
}

const FUNCTION_TIMEOUT_FOR_CRASH = '00:00:15';
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
  const headers = await playbookHeaders(sim.url);
  await warmUp(stack, headers);
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
          // From here on a request can only come from the new host: the old one is dead.
          const respawnAtMs = Date.now() - start;
          log(`${opts.label}: host killed at ${atMs} ms with ${disabled}/${opts.agents} agents disabled; starting a new one`);
          await host.restart();
          kill = { atMs, respawnAtMs, disabledBefore: disabled, hostBackAfterMs: Date.now() - start - atMs, functionTimeout: FUNCTION_TIMEOUT_FOR_CRASH };
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

  const outcomes = await mapLimit(posts, opts.concurrency, (i) => postAlert(host.url, bodies[i] as string, headers));
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

  const acknowledgedDisables = new Map<string, number[]>();
  for (const c of sim.calls) {
    if (c.service === 'graph' && c.method === 'PATCH' && c.status >= 200 && c.status < 300) {
      const id = /servicePrincipals\/([^/]+)/.exec(c.path)?.[1];
      if (id) {
        acknowledgedDisables.set(id, [...(acknowledgedDisables.get(id) ?? []), c.at]);
      }
    }
  }
  const lastFirstDisable = Math.max(...agents.map((id) => acknowledgedDisables.get(id)?.[0] ?? Number.NaN));
  const caseIds = [...new Set(outcomes.map((o) => o.caseId).filter((id): id is string => id !== undefined))];
  const cases = await mapLimit(caseIds, 16, (id) => getCase(host.url, id));
  const poisoned = (await poison.exists()) ? ((await poison.getProperties()).approximateMessagesCount ?? 0) : 0;
  const repeatedDisables = [...acknowledgedDisables].filter(([, at]) => at.length > 1).map(([agent, acknowledgedAt]) => ({ agent, acknowledgedAt }));
  const checks = checkExactlyOnce({ agents, outcomes, cases, sim: stack.sim, poisoned, repeatedDisables, respawnAt: kill ? start + kill.respawnAtMs : undefined });

  const answers = countBy(outcomes.map((o) => o.status));
  const byStatus = countBy(cases.map((c) => c.status));
  const ran = cases.filter((c) => c.targets.some((t) => t.status !== 'joined')).length;
  const result: StormResult = {
    label: opts.label,
    startedAt: start,
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

/** One containment outside the storm: token, tables, queue and JIT are cold-start costs, not storm costs. */
async function warmUp(stack: BenchStack, headers: Record<string, string>): Promise<void> {
  const [agent] = await generateAgents(stack.sim, 1);
  const incident = sentinelIncident(1, [agent as string], 'Warm-up');
  stack.sim.state.putIncident(incident.seed);
  const outcome = await postAlert(stack.host.url, JSON.stringify(incident.triggerBody), headers);
  const deadline = Date.now() + 30_000;
  while (stack.sim.state.tickets.servicenow.length === 0) {
    if (Date.now() > deadline || outcome.status !== 202) {
      throw new Error(`warm-up containment did not finish (POST answered ${outcome.status})\n${stack.host.output().slice(-3000)}`);
    }
    await sleep(20);
  }
  stack.sim.state.tickets.servicenow.length = 0;
}

async function getCase(url: string, caseId: string): Promise<CaseView> {
  const res = await fetch(`${url}/api/cases/${caseId}`);
  if (!res.ok) {
    return { caseId, status: `http-${res.status}`, targets: [] };
  }
  return (await res.json()) as CaseView;
}

function countBy(values: readonly (string | number)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  values.forEach((v) => (counts[String(v)] = (counts[String(v)] ?? 0) + 1));
  return counts;
}
