import type { CallRecord, Simulator } from '../dev/simulator/start-simulator';
import { sleep } from './map-limit';
import { playbookHeaders } from './playbook-headers';
import { sentinelIncident } from './sentinel-incident';

const PATCH_TIMEOUT_MS = 30_000;

export async function generateAgents(sim: Simulator, agents: number): Promise<string[]> {
  const res = await fetch(`${sim.url}/_sim/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agents }) });
  if (!res.ok) {
    throw new Error(`/_sim/generate answered ${res.status}: ${await res.text()}`);
  }
  return ((await res.json()) as { ids: string[] }).ids;
}

/** One incident per run, each naming a fresh agent (a contained agent would join the open case instead). */
/**
 * Where a run's time went, read back from the simulator's call log (ms). The simulator logs a call when it
 * answers, after sleeping the latency, so a request was in flight during [at − latency, at]. Whatever the
 * responder runs in parallel (the Sentinel re-read beside the Graph lookup), the time it waited on upstream
 * calls before the disable was answered is the union of those intervals; the rest is its own overhead.
 */
export interface ContainPhases {
  /** Union of the in-flight intervals of the run's ARM reads, getByIds and the disable itself. */
  upstreamMs: number;
  /** POST sent → first ARM or Graph request sent (intake, queue hop, loading the case). */
  toFirstCallMs: number;
  /** Time between the first request sent and the last answer before the disable that no call covered. */
  betweenCallsMs: number;
  /** Last answer before the disable → disable sent (guardrails, blast-radius slot, step claimed). */
  toDisableMs: number;
}

export interface ContainRun {
  t0: number;
  acceptedAt: number;
  disabledAt: number;
  measuredMs: number;
  intakeMs: number;
  phases: ContainPhases;
}

export class ContainRunner {
  started = 0;
  private incidentNumber = 0;
  private latencyMs = 0;
  private headers: Promise<Record<string, string>> | undefined;

  constructor(
    private readonly sim: Simulator,
    private readonly url: string,
    private readonly agents: readonly string[],
    private readonly hostOutput: () => string,
    /** Cases allowed to finish in the background (ticket, comment, batched risk confirmation) when the next run starts. */
    private readonly maxBackground: number,
  ) {}

  /** Simulated latency of every Graph and ARM call from now on (kept here to read the call log back). */
  setLatency(ms: number): void {
    this.sim.setKnobs({ latencyMs: ms });
    this.latencyMs = ms;
  }

  /** Cases whose ticket is not open yet (the ticket is the last thing a case does, beside the comment). */
  private background(): number {
    return this.started - this.sim.state.tickets.servicenow.length;
  }

  async drain(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.background() > 0) {
      if (Date.now() > deadline) {
        throw new Error(`${this.background()} case(s) did not finish:\n${this.hostOutput().slice(-3000)}`);
      }
      await sleep(20);
    }
  }

  async run(): Promise<ContainRun> {
    const deadline = Date.now() + PATCH_TIMEOUT_MS;
    while (this.background() > this.maxBackground) {
      if (Date.now() > deadline) {
        throw new Error(`cases are not finishing:\n${this.hostOutput().slice(-3000)}`);
      }
      await sleep(5);
    }
    const agent = this.agents[this.started];
    if (agent === undefined) {
      throw new Error('ran out of generated agents');
    }
    const incident = sentinelIncident(++this.incidentNumber, [agent]);
    this.sim.state.putIncident(incident.seed);
    this.headers ??= playbookHeaders(this.sim.url);
    const headers = await this.headers;
    const from = this.sim.calls.length;
    this.started++;
    const t0 = Date.now();
    const res = await fetch(`${this.url}/api/alerts`, { method: 'POST', headers, body: JSON.stringify(incident.triggerBody) });
    const acceptedAt = Date.now();
    const intakeMs = acceptedAt - t0;
    const text = await res.text();
    if (res.status !== 202) {
      throw new Error(`POST /api/alerts answered ${res.status}: ${text}`);
    }
    const patch = await this.waitForDisable(agent, from);
    return { t0, acceptedAt, disabledAt: patch.at, measuredMs: patch.at - t0, intakeMs, phases: this.phases(t0, from, agent, incident.seed.name ?? '', patch) };
  }

  /** See {@link ContainPhases}. */
  private phases(t0: number, from: number, agent: string, incidentName: string, patch: CallRecord): ContainPhases {
    const latency = this.latencyMs;
    const before = this.sim.calls.slice(from, this.sim.calls.indexOf(patch));
    const reads = before.filter(
      (c) => (c.service === 'arm' && c.path.includes(incidentName)) || (c.service === 'graph' && c.path.endsWith('/directoryObjects/getByIds') && JSON.stringify(c.body).includes(agent)),
    );
    const intervals = reads.map((c): [number, number] => [c.at - latency, c.at]);
    const firstSent = Math.min(...intervals.map(([start]) => start), patch.at - latency);
    const lastAnswer = Math.max(...intervals.map(([, end]) => end), firstSent);
    const readsCovered = unionLength(intervals);
    return {
      upstreamMs: unionLength([...intervals, [patch.at - latency, patch.at]]),
      toFirstCallMs: firstSent - t0,
      betweenCallsMs: lastAnswer - firstSent - readsCovered,
      toDisableMs: patch.at - latency - lastAnswer,
    };
  }

  private async waitForDisable(agent: string, from: number): Promise<CallRecord> {
    const deadline = Date.now() + PATCH_TIMEOUT_MS;
    let scanned = from;
    for (;;) {
      const calls = this.sim.calls;
      for (; scanned < calls.length; scanned++) {
        const call = calls[scanned] as CallRecord;
        if (call.method === 'PATCH' && call.status >= 200 && call.status < 300 && call.path.includes(agent)) {
          return call;
        }
      }
      if (Date.now() > deadline) {
        throw new Error(`no disable of ${agent} within ${PATCH_TIMEOUT_MS} ms:\n${this.hostOutput().slice(-3000)}`);
      }
      await sleep(2);
    }
  }
}

/** Total length covered by a set of intervals. */
function unionLength(intervals: readonly [number, number][]): number {
  const sorted = [...intervals].sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [start, stop] of sorted) {
    if (stop > end) {
      total += stop - Math.max(start, end);
      end = stop;
    }
  }
  return total;
}
