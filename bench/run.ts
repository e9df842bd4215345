import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { startAzurite } from '../dev/azurite';
import { REPO_ROOT } from './bench-stack';
import { benchColdStart } from './cold-start';
import { anatomyAccount, benchContainmentAnatomy, type AnatomySetting } from './containment-anatomy';
import { formatReport, type BenchReport, type MachineInfo } from './format-report';
import { benchLifecycleSweep } from './lifecycle-sweep';
import { benchStorm, type StormOptions } from './storm';
import { benchIntakeOnly } from './intake-only';
import { benchTimeToContain, ttcAccount, type TimeToContainSetting } from './time-to-contain';

/**
 * `npm run bench`: every figure of the benchmarks issue in one run, printed as Markdown tables and written to
 * `bench/results/` (`bench-<time>.json`; a complete full-size run also replaces `latest.json` and `latest.md`).
 * - `BENCH_QUICK=1`: smoke sizes (a minute or two), to check the benchmarks still run; not figures to quote.
 * - `BENCH_ONLY=ttc,storm`: a subset (cold, anatomy, ttc, storm, intake, faults, lifecycle).
 * - `BENCH_STORAGE_LATENCY_MS=0,5`: the time-to-contain rows, by latency added to every storage round trip (default
 *   0 and 5 ms: loopback Azurite, and about what in-region Azure Storage costs); `BENCH_GRAPH_LATENCY_MS` (default
 *   100) the Graph and ARM latency of every row.
 * Exits non-zero when a storm's exactly-once check fails or a section cannot run.
 */
const QUICK = process.env['BENCH_QUICK'] === '1';
const ONLY = new Set((process.env['BENCH_ONLY'] ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0));
const wanted = (section: string): boolean => ONLY.size === 0 || ONLY.has(section);

const SIZES = QUICK
  ? { coldRuns: 2, anatomyRuns: 3, ttcRuns: 20, storm: { alerts: 200, agents: 50, duplicates: 30 }, lifecycle: [1_000] }
  : { coldRuns: 10, anatomyRuns: 5, ttcRuns: 200, storm: { alerts: 2_000, agents: 500, duplicates: 300 }, lifecycle: [10_000, 100_000] };

const STORAGE_LATENCIES = listOf(process.env['BENCH_STORAGE_LATENCY_MS'], [0, 5]);
const GRAPH_LATENCY_MS = listOf(process.env['BENCH_GRAPH_LATENCY_MS'], [100])[0] ?? 100;
const TTC: TimeToContainSetting[] = STORAGE_LATENCIES.map((storageLatencyMs) => ({ verify: true, latencyMs: GRAPH_LATENCY_MS, storageLatencyMs, runs: SIZES.ttcRuns }));
/**
 * The critical path's storage round trips, counted at the production setting and again with every latency scaled
 * up ten- and twofold: a stray request (a queue poll, an audit row) cannot pass for a link of the path in a gap the
 * shared CPUs left, so the count does not depend on the machine's load.
 */
const ANATOMY: AnatomySetting[] = [
  { storageLatencyMs: 5, graphLatencyMs: 100 },
  { storageLatencyMs: 50, graphLatencyMs: 200 },
];

const STORM: Omit<StormOptions, 'label' | 'account' | 'faultRate' | 'dropRate' | 'killMidRun'> = {
  ...SIZES.storm,
  concurrency: 100,
  // Graph answering at once makes the storm measure the responder and its storage, not the simulated network.
  latencyMs: 0,
  timeoutMs: 8 * 60_000,
};

async function main(): Promise<void> {
  const started = Date.now();
  const report: BenchReport = { startedAt: new Date(started).toISOString(), quick: QUICK, totalSeconds: 0, machine: machine() };
  const log = (line: string): void => {
    process.stderr.write(`[bench ${Math.round((Date.now() - started) / 1000)} s] ${line}\n`);
  };
  const failures: string[] = [];
  const section = async (name: string, run: () => Promise<void>): Promise<void> => {
    if (!wanted(name)) {
      return;
    }
    try {
      await run();
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      log(`${name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  };

  const azurite = await startAzurite({ accounts: ['coldtsc', 'coldesbuild', ...ANATOMY.map(anatomyAccount), ...TTC.map(ttcAccount), 'storm', 'intake', 'faults'] });
  try {
    await section('cold', async () => {
      report.coldStart = await benchColdStart(azurite, SIZES.coldRuns, log);
    });
    await section('anatomy', async () => {
      report.anatomy = [];
      for (const setting of ANATOMY) {
        const a = await benchContainmentAnatomy(azurite, SIZES.anatomyRuns, setting);
        report.anatomy.push(a);
        log(`anatomy, storage +${a.storageLatencyMs} ms, Graph ${a.graphLatencyMs} ms: ${a.sequential} sequential storage round trips to the disable (${a.intakeRequests} + ${a.responderRequests} in all)`);
      }
    });
    await section('ttc', async () => {
      report.timeToContain = await benchTimeToContain(azurite, TTC, log);
    });
    await section('storm', async () => {
      report.storm = await benchStorm(azurite, { ...STORM, label: 'storm', account: 'storm', faultRate: 0, dropRate: 0, killMidRun: false }, log);
    });
    await section('intake', async () => {
      report.intake = await benchIntakeOnly(azurite, { account: 'intake', alerts: STORM.alerts, agents: STORM.agents, duplicates: STORM.duplicates, concurrency: STORM.concurrency }, log);
    });
    await section('faults', async () => {
      report.faults = await benchStorm(azurite, { ...STORM, label: 'faults', account: 'faults', faultRate: 0.1, dropRate: 0.01, killMidRun: true }, log);
    });
  } finally {
    await azurite.stop();
  }
  // Last, in processes of its own (its own simulator and Azurite), so its memory figures are its alone.
  await section('lifecycle', async () => {
    report.lifecycle = await benchLifecycleSweep(SIZES.lifecycle);
    log(`lifecycle: ${report.lifecycle.map((l) => `${l.agents} agents in ${l.wallMs} ms`).join(', ')}`);
  });

  report.totalSeconds = Math.round((Date.now() - started) / 1000);
  report.machine.loadAverage.end = round(loadavg()[0] ?? 0);
  const markdown = formatReport(report);
  process.stdout.write(`\n${markdown}\n`);

  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(report, null, 1);
  writeFileSync(join(dir, `bench-${report.startedAt.replace(/[:.]/g, '-')}.json`), json);
  // `latest` is what the README quotes: only a complete run at full size replaces it.
  if (!QUICK && ONLY.size === 0) {
    writeFileSync(join(dir, 'latest.json'), json);
    writeFileSync(join(dir, 'latest.md'), `${markdown}\n`);
  }

  const failedChecks = [report.storm, report.faults].flatMap((s) => (s ? s.checks.filter((c) => !c.ok).map((c) => `${s.label}: ${c.name}: ${c.detail}`) : []));
  for (const f of [...failures, ...failedChecks]) {
    process.stderr.write(`FAILED ${f}\n`);
  }
  if (failures.length + failedChecks.length > 0) {
    process.exitCode = 1;
  }
}

function machine(): MachineInfo {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: { start: round(loadavg()[0] ?? 0), end: 0 },
  };
}

/** A comma-separated list of numbers from a setting, or the default. */
function listOf(value: string | undefined, fallback: number[]): number[] {
  const parsed = (value ?? '').split(',').map((v) => v.trim()).filter((v) => v.length > 0).map(Number);
  if (parsed.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new Error(`not a list of milliseconds: ${value ?? ''}`);
  }
  return parsed.length > 0 ? parsed : fallback;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
