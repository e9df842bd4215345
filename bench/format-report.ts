import type { ColdStartResult } from './cold-start';
import type { ContainmentAnatomy } from './containment-anatomy';
import type { LifecycleBenchResult } from './lifecycle-sweep';
import type { StormResult } from './storm';
import type { IntakeOnlyResult } from './intake-only';
import type { TimeToContainResult } from './time-to-contain';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  /** 1-minute load average at the start and at the end of the run: above the core count, other work shared the CPUs. */
  loadAverage: { start: number; end: number };
}

export interface BenchReport {
  startedAt: string;
  quick: boolean;
  totalSeconds: number;
  machine: MachineInfo;
  coldStart?: ColdStartResult;
  anatomy?: ContainmentAnatomy[];
  timeToContain?: TimeToContainResult[];
  storm?: StormResult;
  intake?: IntakeOnlyResult;
  faults?: StormResult;
  lifecycle?: LifecycleBenchResult[];
}

/** The overhead targets at 100 ms Graph latency, by storage latency (the performance issue). */
const TARGET_OVERHEAD_P95_MS: Readonly<Record<number, number>> = { 0: 15, 5: 25 };
/** The floor of the path: the intake's durable record, the queue message, the queue read, and at most one more. */
const TARGET_SEQUENTIAL_STORAGE = 4;

/** The figures as Markdown tables, printed by `npm run bench` and quoted by the README. */
export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, ${m.platform}, Node ${m.node}; load average ${m.loadAverage.start} at start, ${m.loadAverage.end} at end` +
      `${r.quick ? '; BENCH_QUICK (smoke sizes, not figures to quote)' : ''}. Total ${r.totalSeconds} s.`,
    '',
  );
  if (r.timeToContain) {
    out.push('**Time to contain** (one incident, one agent: POST → disable acknowledged by Graph, through the local host; verification at the source on)', '');
    out.push('| storage latency added | Graph/ARM latency | runs | p50 | p95 | p99 | Graph round trips on the path | overhead p50 | overhead p95 | overhead p99 | intake p50 (POST → 202) |');
    out.push('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const t of r.timeToContain) {
      const target = t.latencyMs === 100 ? TARGET_OVERHEAD_P95_MS[t.storageLatencyMs] : undefined;
      const flag = target !== undefined ? (t.overheadMs.p95 <= target ? ` (target ≤ ${target}: met)` : ` (target ≤ ${target}: **not met**)`) : '';
      out.push(`| ${t.storageLatencyMs} ms | ${t.latencyMs} ms | ${t.runs} | ${t.measuredMs.p50} ms | ${t.measuredMs.p95} ms | ${t.measuredMs.p99} ms | ${t.criticalPathCalls ?? '—'} | ${t.overheadMs.p50} ms | ${t.overheadMs.p95} ms${flag} | ${t.overheadMs.p99} ms | ${t.intakeMs.p50} ms |`);
    }
    out.push(
      '',
      'Overhead = measured − time waiting on Graph/ARM (in-flight intervals from the simulator call log, overlaps counted once). By phase, p50 / p95 (ms): ' +
        'POST → first ARM/Graph request (intake, queue hop, the case message read); between requests (work no call covers); last answer → disable sent (admission).',
      '',
    );
    out.push('| storage latency | POST → first request | between requests | last answer → disable sent |', '|---|---|---|---|');
    for (const t of r.timeToContain) {
      const p = t.phasesMs;
      const pair = (s: { p50: number; p95: number }): string => `${s.p50} / ${s.p95}`;
      out.push(`| ${t.storageLatencyMs} ms | ${pair(p.toFirstCall)} | ${pair(p.betweenCalls)} | ${pair(p.toDisable)} |`);
    }
    out.push('');
  }
  for (const a of r.anatomy ?? []) {
    const flag = a.sequential <= TARGET_SEQUENTIAL_STORAGE ? `target ≤ ${TARGET_SEQUENTIAL_STORAGE}: met` : `target ≤ ${TARGET_SEQUENTIAL_STORAGE}: **not met**`;
    out.push(
      `**Critical path** at ${a.storageLatencyMs} ms per storage round trip and ${a.graphLatencyMs} ms per Graph/ARM call (${a.runs} isolated runs, medians): ` +
        `**${a.sequential} sequential storage round trips** from the POST to the disable being sent (${flag}), out of ${a.intakeRequests} storage requests before the 202 and ${a.responderRequests} after it; ` +
        `POST → 202 ${a.intakeMs} ms, POST → disable sent ${a.toDisableMs} ms: ${a.onPathMs.storage} ms in storage round trips on the path${a.sequential > 0 ? ` (each ${a.storageLatencyMs} ms added + ${a.storageExtraMs} ms of Azurite and the Storage SDK)` : ''}, ` +
        `${a.onPathMs.upstream} ms in Graph/ARM reads, ${a.onPathMs.between} ms between links (the host's and the responder's own work, and the benchmark's hop to the host). The path of the median run (ms from the POST):`,
      '',
      ...a.path.map((l, i) => `${i + 1}. ${l}`),
      '',
    );
  }
  for (const s of [r.storm, r.faults]) {
    if (!s) {
      continue;
    }
    const g = s.calls.graph;
    out.push(
      `**${s.kill ? 'Storm with faults and a crash' : 'Storm'}**: ${s.alerts} alerts (${s.distinctIncidents} incidents, ${s.alerts - s.distinctIncidents} repeats, ${s.targetMentions} target mentions) naming ${s.agents} agents, ${s.concurrency} posts in flight, ` +
        `Identity Protection at 1 request/s, latency ${s.latencyMs} ms${s.faultRate > 0 ? `, ${Math.round(s.faultRate * 100)}% of Graph/ARM calls 429/503 (measured ${pct(s.calls.faults.throttled429 + s.calls.faults.unavailable503, s.calls.faults.total)}), ${Math.round(s.dropRate * 100)}% connections dropped (measured ${pct(s.calls.faults.dropped, s.calls.faults.total)})` : ''}` +
        `${s.kill ? `, host SIGKILLed at ${Math.round(s.kill.atMs / 100) / 10} s (${s.kill.disabledBefore}/${s.agents} disabled) and replaced in ${s.kill.hostBackAfterMs} ms (message lease ${s.kill.functionTimeout}, see below)` : ''}`,
      '',
    );
    out.push('| figure | value |', '|---|---|');
    out.push(`| intake throughput | ${s.intake.alertsPerSecond} alerts/s (${s.alerts} in ${Math.round(s.intake.wallMs / 100) / 10} s) |`);
    out.push(`| intake latency p50 / p95 / p99 | ${s.intake.latencyMs.p50} / ${s.intake.latencyMs.p95} / ${s.intake.latencyMs.p99} ms |`);
    out.push(`| time until all ${s.agents} disabled | ${Math.round(s.allDisabledMs / 100) / 10} s |`);
    out.push(`| time until every case finished | ${Math.round(s.completeMs / 100) / 10} s |`);
    out.push(`| cases | ${s.cases.total} (${s.cases.ran} acted, ${s.cases.allTargetsJoined} joined open cases) |`);
    out.push(`| CPU seconds (app / storage / bench) | ${cpu(s, 'local host (app)')} / ${cpu(s, 'azurite (storage)')} / ${cpu(s, 'bench (simulator, clients)')} |`);
    out.push('', '| Graph call | calls (ok) | minimum |', '|---|---|---|');
    out.push(`| disable (PATCH) | ${g.disable.calls} (${g.disable.ok}) | ${s.minimum.disables} |`);
    out.push(`| confirmCompromised | ${g.confirmCompromised.calls} (${g.confirmCompromised.ok}), ${g.confirmCompromised.ids ?? 0} ids | ${s.minimum.confirmCompromised} (60 ids per call) |`);
    out.push(`| getByIds | ${g.getByIds.calls} (${g.getByIds.ok}), ${g.getByIds.ids ?? 0} ids | ${s.minimum.getByIds} (1,000 ids per call) |`);
    out.push(`| other Graph | ${g.other.calls + g.batch.calls} | 0 |`);
    out.push(`| ARM: incident + entities + comment | ${s.calls.arm.getIncident.calls} + ${s.calls.arm.listEntities.calls} + ${s.calls.arm.putComment.calls} | one of each per case that acted |`);
    out.push('', '| exactly-once check | result |', '|---|---|');
    for (const c of s.checks) {
      out.push(`| ${c.name} | ${c.ok ? 'pass' : '**FAIL**'}: ${c.detail} |`);
    }
    out.push('');
  }
  if (r.intake) {
    const i = r.intake;
    const ms = (role: string): string => String(i.cpuMsPerAlert[role] ?? 0);
    out.push(
      `**Intake alone** (the storm's posts with the responder's queue trigger off, \`AzureWebJobs.containment-queue.Disabled\`): ${i.alertsPerSecond} alerts/s (${i.alerts} in ${Math.round(i.wallMs / 100) / 10} s, ${i.concurrency} in flight, ${i.accepted} accepted); ` +
        `latency p50 / p95 / p99 ${i.latencyMs.p50} / ${i.latencyMs.p95} / ${i.latencyMs.p99} ms; CPU an alert: app ${ms('local host (app)')} ms, storage ${ms('azurite (storage)')} ms, bench ${ms('bench (simulator, clients)')} ms.`,
      '',
    );
  }
  if (r.coldStart) {
    const c = r.coldStart;
    out.push(`**Cold start** (fresh Node process loads the app and registers its functions; median of ${c.runs})`, '');
    out.push('| build | load p50 | process spawn → exit p50 | functions | package | deflated (≈ zip) | host ready p50 | first containment (cold) | warm containment p50 |');
    out.push('|---|---|---|---|---|---|---|---|---|');
    for (const [name, b] of [['tsc output', c.tsc], [`deployment package: esbuild bundle (built in ${c.esbuild.buildMs} ms)`, c.esbuild]] as const) {
      out.push(`| ${name} | ${b.loadMs.p50} ms | ${b.processMs.p50} ms | ${b.functions} | ${b.package.megabytes} MB, ${b.package.files} files | ${b.package.deflatedMegabytes} MB | ${b.hostReadyMs.p50} ms | ${b.firstContainmentMs} ms | ${b.warmContainmentMs} ms |`);
    }
    out.push('');
  }
  if (r.lifecycle) {
    out.push('**Lifecycle sweep** (enforce mode, one sweep over a generated tenant)', '');
    out.push('| agents | wall | Graph requests (pages + batches + other) | minimum | peak RSS |', '|---|---|---|---|---|');
    for (const l of r.lifecycle) {
      out.push(`| ${l.agents.toLocaleString('en-US')} | ${Math.round(l.wallMs / 100) / 10} s | ${l.graphRequests.total} (${l.graphRequests.pages} + ${l.graphRequests.batches} + ${l.graphRequests.other}) | ${l.minimumRequests} | ${l.peakRssMb} MB |`);
    }
    out.push('');
  }
  return out.join('\n');
}

function pct(n: number, of: number): string {
  return of === 0 ? '0%' : `${Math.round((n / of) * 1000) / 10}%`;
}

function cpu(s: StormResult, role: string): string {
  return String(s.cpuSeconds.total[role] ?? 0);
}
