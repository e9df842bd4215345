import type { AzuritePorts } from '../dev/azurite';
import { startStorageProxy, type StorageProxy } from '../dev/storage-proxy';
import { startBenchStack, type StorageAccounts } from './bench-stack';
import { ContainRunner, generateAgents, type ContainPhases, type ContainRun } from './contain-runner';
import { summarize, type Summary } from './summarize';

export interface TimeToContainSetting {
  /** Simulated latency of every Graph and ARM call. */
  latencyMs: number;
  /** Added to every storage round trip by a proxy in front of Azurite (0: the app talks to Azurite directly). */
  storageLatencyMs: number;
  /** `SENTINEL_VERIFY`: re-read the incident from Sentinel (ARM) before acting. */
  verify: boolean;
  runs: number;
}

export interface TimeToContainResult extends TimeToContainSetting {
  /**
   * Latency units the run waited on before the disable was answered (median of upstream wait ÷ latency): 3 when
   * the Sentinel re-read, getByIds and the disable follow one another, 2 when the re-read runs beside getByIds.
   * Undefined at 0 ms latency, where waits cannot be told from work.
   */
  criticalPathCalls?: number;
  /** POST sent → the simulator answered the disable PATCH (its call log `at`; same machine, same clock). */
  measuredMs: Summary;
  /** measured − the time spent waiting on Graph and ARM (their in-flight intervals, overlaps counted once): what the responder itself adds. */
  overheadMs: Summary;
  /** POST sent → 202 received. */
  intakeMs: Summary;
  /** Overhead p50 of the first and the last 50 runs: does the responder slow down as its tables fill? */
  overheadP50FirstLast: [number, number];
  /** The overhead phase by phase (see ContainPhases): where the responder spends its time between calls. */
  phasesMs: { toFirstCall: Summary; betweenCalls: Summary; toDisable: Summary };
}

/** Cases allowed to finish in the background (ticket, comment, batched risk confirmation) while the next run starts. */
const MAX_BACKGROUND_CASES = 4;
const WARM_UP_RUNS = 5;

/**
 * Time to contain one agent: one incident naming one agent, posted through the local host, until Graph
 * acknowledges the disable. Runs are sequential on the critical path; the previous cases' off-path work (risk
 * confirmation paced at 1 request/s by Identity Protection, ticket, comment) may still be finishing, at most
 * {@link MAX_BACKGROUND_CASES} of them, as it would in a SOC that receives one incident after another.
 * One stack per storage latency and verification setting (both fixed at start-up: the proxy sits in the connection
 * string, verification is a setting); Graph latency is a simulator knob.
 */
export async function benchTimeToContain(azurite: AzuritePorts & StorageAccounts, settings: readonly TimeToContainSetting[], log: (line: string) => void): Promise<TimeToContainResult[]> {
  const results: TimeToContainResult[] = [];
  const groups = [...new Set(settings.map((s) => `${s.verify}|${s.storageLatencyMs}`))];
  for (const group of groups) {
    const mine = settings.filter((s) => `${s.verify}|${s.storageLatencyMs}` === group);
    const { verify, storageLatencyMs } = mine[0] as TimeToContainSetting;
    const proxy: StorageProxy | undefined = storageLatencyMs > 0 ? await startStorageProxy(azurite, { latencyMs: storageLatencyMs }) : undefined;
    const stack = await startBenchStack({ storage: proxy ?? azurite, account: ttcAccount(mine[0] as TimeToContainSetting), env: { SENTINEL_VERIFY: String(verify) } });
    try {
      const total = WARM_UP_RUNS + mine.reduce((sum, s) => sum + s.runs, 0);
      const agents = await generateAgents(stack.sim, total);
      const runner = new ContainRunner(stack.sim, stack.host.url, agents, () => stack.host.output(), MAX_BACKGROUND_CASES);
      // Warm-up: token acquisition, table creation and JIT are cold-start costs, measured separately.
      for (let i = 0; i < WARM_UP_RUNS; i++) {
        await runner.run();
      }
      for (const setting of mine) {
        runner.setLatency(setting.latencyMs);
        const runs: ContainRun[] = [];
        for (let i = 0; i < setting.runs; i++) {
          runs.push(await runner.run());
        }
        const measured = runs.map((r) => r.measuredMs);
        const intake = runs.map((r) => r.intakeMs);
        const phase = (pick: (p: ContainPhases) => number): Summary => summarize(runs.map((r) => pick(r.phases)));
        const overhead = runs.map((r) => r.measuredMs - r.phases.upstreamMs);
        const result: TimeToContainResult = {
          ...setting,
          ...(setting.latencyMs > 0 ? { criticalPathCalls: Math.round(summarize(runs.map((r) => r.phases.upstreamMs)).p50 / setting.latencyMs) } : {}),
          measuredMs: summarize(measured),
          overheadMs: summarize(overhead),
          intakeMs: summarize(intake),
          overheadP50FirstLast: [summarize(overhead.slice(0, 50)).p50, summarize(overhead.slice(-50)).p50],
          phasesMs: { toFirstCall: phase((p) => p.toFirstCallMs), betweenCalls: phase((p) => p.betweenCallsMs), toDisable: phase((p) => p.toDisableMs) },
        };
        results.push(result);
        log(`time to contain, storage +${storageLatencyMs} ms, Graph ${setting.latencyMs} ms, verify ${verify ? 'on' : 'off'}: p50 ${result.measuredMs.p50} p95 ${result.measuredMs.p95} ms; overhead p50 ${result.overheadMs.p50} p95 ${result.overheadMs.p95} ms`);
      }
      runner.setLatency(0);
      await runner.drain();
      const stillEnabled = agents.slice(0, runner.started).filter((id) => stack.sim.state.get(id)?.accountEnabled !== false);
      if (stillEnabled.length > 0) {
        throw new Error(`time to contain: ${stillEnabled.length} agent(s) still enabled after their run, e.g. ${stillEnabled[0]}`);
      }
    } finally {
      await stack.stop();
      await proxy?.stop();
    }
  }
  return results;
}

/** The storage account of a stack (each its own: incidents are numbered from 1 in every stack). */
export function ttcAccount(setting: Pick<TimeToContainSetting, 'verify' | 'storageLatencyMs'>): string {
  return `ttc${setting.verify ? 'v' : 'n'}${setting.storageLatencyMs}`;
}
