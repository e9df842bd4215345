import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bundleApp, DEPLOY_DIR } from '../dev/bundle/bundle-app';
import { freePort } from '../dev/free-port';
import { spawnLocalHost } from '../dev/host/spawn-local-host';
import { REPO_ROOT, startBenchStack, type StorageAccounts } from './bench-stack';
import { ContainRunner, generateAgents } from './contain-runner';
import { bundlePackageFiles, measureFiles, tscPackageFiles, type PackageSize } from './package-size';
import { summarize, type Summary } from './summarize';

export interface AppLoad {
  /** Fresh `node` process → the app's modules loaded and every function registered, ms (median of the runs). */
  loadMs: Summary;
  /** Whole process, spawn → exit, ms. */
  processMs: Summary;
  functions: number;
  rssMb: number;
  package: PackageSize;
  /** The first containment after the host started (credential, clients, tables all cold) against the warm median. */
  firstContainmentMs: number;
  warmContainmentMs: number;
  /** Spawn → a fresh local host answers `/admin/host/status`: what every host (re)start in the tests waits for. */
  hostReadyMs: Summary;
}

export interface ColdStartResult {
  runs: number;
  tsc: AppLoad;
  esbuild: AppLoad & { buildMs: number };
}

const LOADER = join(REPO_ROOT, 'dist', 'bench', 'load-app-once.js');
/** The `tsc` output, loaded in place of package.json `main` (the bundle). */
const TSC_MAIN = 'dist/functions/*.js';

interface AppUnderTest {
  appDir: string;
  main?: string;
}

/**
 * Cold start, twice: the app as `tsc` emits it (one module per file, node_modules beside it) and the deployment
 * package `npm run bundle` builds (dist/deploy: the esbuild bundle and the few packages it ships). Each is loaded
 * `runs` times in a fresh Node process (the worker's first cost on a new instance), measured as a package (what is
 * uploaded), and served by a fresh local host for one cold and several warm containments.
 */
export async function benchColdStart(storage: StorageAccounts, runs: number, log: (line: string) => void): Promise<ColdStartResult> {
  const { buildMs } = await bundleApp(REPO_ROOT);
  const tscApp: AppUnderTest = { appDir: REPO_ROOT, main: TSC_MAIN };
  const bundled: AppUnderTest = { appDir: join(REPO_ROOT, DEPLOY_DIR) };
  // Alternate the two builds, so both see the same machine when other work comes and goes.
  const [tscLoad, bundleLoad] = loadAlternately([tscApp, bundled], runs) as [LoadFigures, LoadFigures];
  const [tscReady, bundleReady] = (await hostStartsAlternately([tscApp, bundled], Math.max(2, Math.ceil(runs / 2)), storage)) as [Summary, Summary];
  const tsc: AppLoad = {
    ...tscLoad,
    package: measureFiles(tscPackageFiles(REPO_ROOT)),
    hostReadyMs: tscReady,
    ...(await containColdAndWarm(storage, tscApp, 'coldtsc')),
  };
  log(`cold start (tsc): load p50 ${tsc.loadMs.p50} ms, package ${tsc.package.megabytes} MB (${tsc.package.files} files)`);
  const esbuild: ColdStartResult['esbuild'] = {
    ...bundleLoad,
    buildMs,
    package: measureFiles(bundlePackageFiles(bundled.appDir)),
    hostReadyMs: bundleReady,
    ...(await containColdAndWarm(storage, bundled, 'coldesbuild')),
  };
  log(`cold start (esbuild): load p50 ${esbuild.loadMs.p50} ms, package ${esbuild.package.megabytes} MB (${esbuild.package.files} files)`);
  return { runs, tsc, esbuild };
}

type LoadFigures = Pick<AppLoad, 'loadMs' | 'processMs' | 'functions' | 'rssMb'>;

function loadAlternately(apps: readonly AppUnderTest[], runs: number): LoadFigures[] {
  const samples = apps.map(() => ({ loads: [] as number[], processes: [] as number[], functions: 0, rssMb: 0 }));
  for (let i = 0; i < runs; i++) {
    apps.forEach((app, k) => {
      const sample = samples[k] as (typeof samples)[number];
      const t0 = performance.now();
      // Registration reads the settings (timer schedules), so the loader needs a valid minimum of them.
      const child = spawnSync(process.execPath, [LOADER, app.appDir, ...(app.main ? [app.main] : [])], {
        encoding: 'utf8',
        env: { ...process.env, AzureWebJobsStorage: 'UseDevelopmentStorage=true' },
      });
      sample.processes.push(Math.round(performance.now() - t0));
      if (child.status !== 0) {
        throw new Error(`loading ${app.appDir} failed: ${child.stderr}`);
      }
      const out = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as { loadMs: number; functions: number; heapMb: number };
      sample.loads.push(Math.round(out.loadMs));
      sample.functions = out.functions;
      sample.rssMb = Math.round(out.heapMb);
    });
  }
  return samples.map((s) => ({ loadMs: summarize(s.loads), processMs: summarize(s.processes), functions: s.functions, rssMb: s.rssMb }));
}

/** Starts and stops a local host on each app in turn, `runs` times, timing spawn → ready. */
async function hostStartsAlternately(apps: readonly AppUnderTest[], runs: number, storage: StorageAccounts): Promise<Summary[]> {
  const samples = apps.map(() => [] as number[]);
  const env = { AzureWebJobsStorage: storage.connectionString('coldtsc'), LOCAL_HOST_DISABLE_TIMERS: 'true' };
  for (let i = 0; i < runs; i++) {
    for (const [k, app] of apps.entries()) {
      const t0 = performance.now();
      const host = await spawnLocalHost({ appDir: app.appDir, env, port: await freePort(), startTimeoutMs: 60_000, ...(app.main ? { main: app.main } : {}) });
      samples[k]?.push(Math.round(performance.now() - t0));
      await host.stop();
    }
  }
  return samples.map((s) => summarize(s));
}

async function containColdAndWarm(storage: StorageAccounts, app: AppUnderTest, account: string): Promise<Pick<AppLoad, 'firstContainmentMs' | 'warmContainmentMs'>> {
  // The runner posts without the playbook's token; both builds accept any caller alike (the figure is the load, not
  // the intake's token check).
  const env = { INTAKE_ALLOWED_CALLERS: '', INTAKE_ALLOW_ANY_CALLER: 'true' };
  const stack = await startBenchStack({ storage, account, env, appDir: app.appDir, ...(app.main ? { main: app.main } : {}) });
  try {
    const agents = await generateAgents(stack.sim, 11);
    const runner = new ContainRunner(stack.sim, stack.host.url, agents, () => stack.host.output(), 0);
    const first = await runner.run();
    const warm: number[] = [];
    for (let i = 0; i < 10; i++) {
      await runner.drain();
      warm.push((await runner.run()).measuredMs);
    }
    await runner.drain();
    return { firstContainmentMs: first.measuredMs, warmContainmentMs: summarize(warm).p50 };
  } finally {
    await stack.stop();
  }
}
