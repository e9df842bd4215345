import type { AzuritePorts } from '../dev/azurite';
import { startBenchStack } from './bench-stack';
import { ContainRunner, generateAgents } from './contain-runner';
import { sleep } from './map-limit';
import { startStorageProxy as startStorageTap, type StorageRequest } from '../dev/storage-proxy';
import { summarize } from './summarize';

export interface PhaseAnatomy {
  /** Storage round trips in the phase (median over the runs). */
  storageRequests: number;
  /** Their summed duration, ms (median): they run one after another on this path. */
  storageMs: number;
  /** Wall time of the phase, ms (median). */
  wallMs: number;
  /** The storage requests of the median run, in order, e.g. `table POST /$batch`. */
  sequence: string[];
}

export interface ContainmentAnatomy {
  runs: number;
  /** POST sent → 202 received. */
  intake: PhaseAnatomy;
  /** 202 received → disable acknowledged by Graph (queue hop, verification, resolve, guardrails, step claim). */
  responder: PhaseAnatomy;
  /** Graph and ARM calls between POST and the disable of the median run. */
  upstreamCalls: string[];
}

const WARM_UP_RUNS = 3;
/** The previous case's last writes (step, audit, case status, message delete) come after its ticket. */
const QUIET_MS = 300;

async function quiet(requests: readonly StorageRequest[], ms: number): Promise<void> {
  for (;;) {
    const last = requests[requests.length - 1]?.endedAt ?? 0;
    const idle = Date.now() - last;
    if (idle >= ms) {
      return;
    }
    await sleep(ms - idle);
  }
}

/**
 * Where a containment's time goes when Graph answers instantly: every storage round trip between the POST and
 * the disable, read from a logging proxy in front of Azurite. Runs are fully isolated (the previous case has
 * finished), so each window holds only its own case's requests and the queue listener's own polls.
 */
export async function benchContainmentAnatomy(azurite: AzuritePorts, runs: number): Promise<ContainmentAnatomy> {
  const tap = await startStorageTap(azurite);
  const stack = await startBenchStack({ storage: tap, account: 'anatomy' });
  try {
    const agents = await generateAgents(stack.sim, WARM_UP_RUNS + runs);
    const runner = new ContainRunner(stack.sim, stack.host.url, agents, () => stack.host.output(), 0);
    for (let i = 0; i < WARM_UP_RUNS; i++) {
      await runner.run();
    }
    const samples: { intake: StorageRequest[]; responder: StorageRequest[]; intakeMs: number; responderMs: number; upstream: string[] }[] = [];
    for (let i = 0; i < runs; i++) {
      await runner.drain();
      await quiet(tap.requests, QUIET_MS);
      const fromCall = stack.sim.calls.length;
      const r = await runner.run();
      const within = (from: number, to: number) => tap.requests.filter((q) => q.startedAt >= from && q.startedAt <= to);
      samples.push({
        intake: within(r.t0, r.acceptedAt),
        responder: within(r.acceptedAt, r.disabledAt),
        intakeMs: r.acceptedAt - r.t0,
        responderMs: r.disabledAt - r.acceptedAt,
        upstream: stack.sim.calls.slice(fromCall).filter((c) => c.at <= r.disabledAt && c.service !== 'msi').map((c) => `${c.service} ${c.method} ${c.path.replace(/\/subscriptions\/.*\/incidents\/[^/]+/, '…/incidents/{id}')}`),
      });
    }
    await runner.drain();
    const phase = (pick: (s: (typeof samples)[number]) => StorageRequest[], wall: (s: (typeof samples)[number]) => number): PhaseAnatomy => {
      const counts = samples.map((s) => pick(s).length);
      const median = summarize(counts).p50;
      const representative = samples.find((s) => pick(s).length === median) ?? samples[0];
      return {
        storageRequests: median,
        storageMs: summarize(samples.map((s) => pick(s).reduce((sum, q) => sum + (q.endedAt - q.startedAt), 0))).p50,
        wallMs: summarize(samples.map(wall)).p50,
        sequence: representative ? pick(representative).map((q) => `${q.service} ${q.method} ${q.shape}`) : [],
      };
    };
    return {
      runs,
      intake: phase((s) => s.intake, (s) => s.intakeMs),
      responder: phase((s) => s.responder, (s) => s.responderMs),
      upstreamCalls: samples[Math.floor(samples.length / 2)]?.upstream ?? [],
    };
  } finally {
    await stack.stop();
    await tap.stop();
  }
}
