import type { AzuritePorts } from '../dev/azurite';
import { startStorageProxy, type StorageRequest } from '../dev/storage-proxy';
import { startBenchStack } from './bench-stack';
import { ContainRunner, generateAgents } from './contain-runner';
import { criticalPath, storageLinks, type PathLink } from './critical-chain';
import { sleep } from './map-limit';
import { summarize } from './summarize';

export interface AnatomySetting {
  /** Added by the storage proxy to every storage request. */
  storageLatencyMs: number;
  /** The simulator's latency for every Graph and ARM call. */
  graphLatencyMs: number;
}

export interface ContainmentAnatomy extends AnatomySetting {
  runs: number;
  /** Storage round trips POST → 202 and 202 → disable sent (medians), side by side or not. */
  intakeRequests: number;
  responderRequests: number;
  /** Sequential storage round trips on the critical path POST → disable sent (median; see criticalPath). */
  sequential: number;
  /** The critical path of the median run, link by link, with times from the POST (ms). */
  path: string[];
  /** POST sent → 202 (median). */
  intakeMs: number;
  /** POST sent → disable sent (median). */
  toDisableMs: number;
  /**
   * Where POST → disable sent went, along the critical path (medians): its storage round trips (each the latency
   * added plus what Azurite and the Storage SDK take), its Graph/ARM reads, and the time between links, when the
   * path waited for no request: the host and the responder's own work, and the hop from the benchmark to the host.
   */
  onPathMs: { storage: number; upstream: number; between: number };
  /** A storage round trip on the path, less the latency added (median): what Azurite and the SDK cost on loopback. */
  storageExtraMs: number;
}

/** The storage account of a setting's run (each its own: incidents are numbered from 1 in every run). */
export function anatomyAccount(setting: AnatomySetting): string {
  return `anatomy${setting.storageLatencyMs}x${setting.graphLatencyMs}`;
}

const WARM_UP_RUNS = 3;
/** The previous case's last writes (step, audit, case status, message delete, lease release) come after its ticket. */
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
 * The critical path of one containment, from the POST to the disable being sent: every storage round trip (from a
 * proxy in front of Azurite that adds `storageLatencyMs` to each, as in-region Azure Storage costs a few
 * milliseconds) and every Graph/ARM call (from the simulator's log), and the chain of them the containment waited
 * for. Runs are isolated (the previous case has finished), so each window holds its own case's requests and the
 * queue listener's polls.
 */
export async function benchContainmentAnatomy(azurite: AzuritePorts, runs: number, setting: AnatomySetting): Promise<ContainmentAnatomy> {
  const tap = await startStorageProxy(azurite, { latencyMs: setting.storageLatencyMs });
  const stack = await startBenchStack({ storage: tap, account: anatomyAccount(setting) });
  try {
    const agents = await generateAgents(stack.sim, WARM_UP_RUNS + runs);
    const runner = new ContainRunner(stack.sim, stack.host.url, agents, () => stack.host.output(), 0);
    for (let i = 0; i < WARM_UP_RUNS; i++) {
      await runner.run();
    }
    runner.setLatency(setting.graphLatencyMs);
    const samples: { intake: number; responder: number; path: PathLink[]; t0: number; intakeMs: number; toDisableMs: number; storageMs: number; upstreamMs: number; storageExtra: number[] }[] = [];
    for (let i = 0; i < runs; i++) {
      await runner.drain();
      await quiet(tap.requests, QUIET_MS);
      const fromCall = stack.sim.calls.length;
      const r = await runner.run();
      const sent = r.disabledAt - setting.graphLatencyMs;
      const upstream: PathLink[] = stack.sim.calls
        .slice(fromCall)
        .filter((c) => c.service !== 'msi' && c.at <= r.disabledAt)
        .map((c) => ({ kind: 'upstream', label: `${c.service} ${c.method} ${c.path.replace(/\/subscriptions\/.*\/incidents\/[^/]+/, '…/incidents/{id}').replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{id}')}`, start: c.at - setting.graphLatencyMs, end: c.at }));
      const storage = tap.requests.filter((q) => q.startedAt >= r.t0 && q.startedAt <= sent);
      if (process.env['ANATOMY_TRACE']) {
        process.stderr.write(`${[...storageLinks(storage), ...upstream].sort((a, b) => a.start - b.start).map((l) => `${l.start - r.t0}–${l.end - r.t0} ${l.label}`).join('\n')}\n---\n`);
      }
      const path = criticalPath([...storageLinks(storage), ...upstream], r.t0, r.disabledAt);
      // Up to the disable being sent: the disable itself is the path's last link.
      const links = path.slice(0, -1);
      const spent = (kind: PathLink['kind']): number => links.filter((l) => l.kind === kind).reduce((sum, l) => sum + (l.end - l.start), 0);
      samples.push({
        t0: r.t0,
        storageMs: spent('storage'),
        upstreamMs: spent('upstream'),
        storageExtra: links.filter((l) => l.kind === 'storage').map((l) => l.end - l.start - setting.storageLatencyMs),
        intake: storage.filter((q) => q.startedAt <= r.acceptedAt).length,
        responder: storage.filter((q) => q.startedAt > r.acceptedAt).length,
        path,
        intakeMs: r.acceptedAt - r.t0,
        toDisableMs: sent - r.t0,
      });
    }
    await runner.drain();
    const sequentialOf = (s: (typeof samples)[number]): number => s.path.filter((l) => l.kind === 'storage').length;
    const sequential = summarize(samples.map(sequentialOf)).p50;
    const median = samples.find((s) => sequentialOf(s) === sequential) ?? samples[0];
    return {
      ...setting,
      runs,
      intakeRequests: summarize(samples.map((s) => s.intake)).p50,
      responderRequests: summarize(samples.map((s) => s.responder)).p50,
      sequential,
      path: median ? median.path.map((l) => `${l.label} (${l.start - median.t0}–${l.end - median.t0} ms)`) : [],
      intakeMs: summarize(samples.map((s) => s.intakeMs)).p50,
      toDisableMs: summarize(samples.map((s) => s.toDisableMs)).p50,
      onPathMs: {
        storage: summarize(samples.map((s) => s.storageMs)).p50,
        upstream: summarize(samples.map((s) => s.upstreamMs)).p50,
        between: summarize(samples.map((s) => s.toDisableMs - s.storageMs - s.upstreamMs)).p50,
      },
      storageExtraMs: summarize(samples.flatMap((s) => s.storageExtra)).p50,
    };
  } finally {
    await stack.stop();
    await tap.stop();
  }
}
