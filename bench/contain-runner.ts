import type { CallRecord, Simulator } from '../dev/simulator/start-simulator';
import { sleep } from './map-limit';
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
export class ContainRunner {
  started = 0;
  private incidentNumber = 0;

  constructor(
    private readonly sim: Simulator,
    private readonly url: string,
    private readonly agents: readonly string[],
    private readonly hostOutput: () => string,
    /** Cases allowed to finish in the background (ticket, comment, batched risk confirmation) when the next run starts. */
    private readonly maxBackground: number,
  ) {}

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

  async run(): Promise<{ t0: number; acceptedAt: number; disabledAt: number; measuredMs: number; intakeMs: number }> {
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
    const from = this.sim.calls.length;
    this.started++;
    const t0 = Date.now();
    const res = await fetch(`${this.url}/api/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(incident.triggerBody) });
    const acceptedAt = Date.now();
    const intakeMs = acceptedAt - t0;
    const text = await res.text();
    if (res.status !== 202) {
      throw new Error(`POST /api/alerts answered ${res.status}: ${text}`);
    }
    const patch = await this.waitForDisable(agent, from);
    return { t0, acceptedAt, disabledAt: patch.at, measuredMs: patch.at - t0, intakeMs };
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
