import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, stop } from 'esbuild';
import { REPO_ROOT, startBenchStack, type StorageAccounts } from './bench-stack';
import { ContainRunner, generateAgents } from './contain-runner';
import { deploymentPackageFiles, measureFiles, type PackageSize } from './package-size';
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
  hostReadyMs: number;
}

export interface ColdStartResult {
  runs: number;
  tsc: AppLoad;
  esbuild: AppLoad & { buildMs: number };
}

const LOADER = join(REPO_ROOT, 'dist', 'bench', 'load-app-once.js');

/**
 * Cold start, twice: the app as `tsc` emits it (one module per file, node_modules beside it) and as one
 * esbuild bundle. Each is loaded `runs` times in a fresh Node process (the worker's first cost on a new
 * instance), packaged (size of what is uploaded), and served by a fresh local host for one cold and several warm
 * containments, which also proves the bundle works.
 */
export async function benchColdStart(storage: StorageAccounts, runs: number, log: (line: string) => void): Promise<ColdStartResult> {
  const bundle = await bundleApp();
  try {
    // Alternate the two builds, so both see the same machine when other work comes and goes.
    const [tscLoad, bundleLoad] = loadAlternately([REPO_ROOT, bundle.dir], runs) as [LoadFigures, LoadFigures];
    const tsc: AppLoad = {
      ...tscLoad,
      package: measureFiles(deploymentPackageFiles(REPO_ROOT)),
      ...(await containColdAndWarm(storage, REPO_ROOT, 'coldtsc')),
    };
    log(`cold start (tsc): load p50 ${tsc.loadMs.p50} ms, package ${tsc.package.megabytes} MB (${tsc.package.files} files)`);
    const esbuild: ColdStartResult['esbuild'] = {
      ...bundleLoad,
      buildMs: bundle.buildMs,
      package: measureFiles(listFiles(bundle.dir)),
      ...(await containColdAndWarm(storage, bundle.dir, 'coldesbuild')),
    };
    log(`cold start (esbuild): load p50 ${esbuild.loadMs.p50} ms, package ${esbuild.package.megabytes} MB (${esbuild.package.files} files)`);
    return { runs, tsc, esbuild };
  } finally {
    rmSync(bundle.dir, { recursive: true, force: true });
  }
}

type LoadFigures = Pick<AppLoad, 'loadMs' | 'processMs' | 'functions' | 'rssMb'>;

function loadAlternately(appDirs: readonly string[], runs: number): LoadFigures[] {
  const samples = appDirs.map(() => ({ loads: [] as number[], processes: [] as number[], functions: 0, rssMb: 0 }));
  for (let i = 0; i < runs; i++) {
    appDirs.forEach((appDir, k) => {
      const sample = samples[k] as (typeof samples)[number];
      const t0 = performance.now();
      // Registration reads the settings (timer schedules), so the loader needs a valid minimum of them.
      const child = spawnSync(process.execPath, [LOADER, appDir], { encoding: 'utf8', env: { ...process.env, AzureWebJobsStorage: 'UseDevelopmentStorage=true' } });
      sample.processes.push(Math.round(performance.now() - t0));
      if (child.status !== 0) {
        throw new Error(`loading ${appDir} failed: ${child.stderr}`);
      }
      const out = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as { loadMs: number; functions: number; heapMb: number };
      sample.loads.push(Math.round(out.loadMs));
      sample.functions = out.functions;
      sample.rssMb = Math.round(out.heapMb);
    });
  }
  return samples.map((s) => ({ loadMs: summarize(s.loads), processMs: summarize(s.processes), functions: s.functions, rssMb: s.rssMb }));
}

async function containColdAndWarm(storage: StorageAccounts, appDir: string, account: string): Promise<Pick<AppLoad, 'firstContainmentMs' | 'warmContainmentMs' | 'hostReadyMs'>> {
  const t0 = Date.now();
  const stack = await startBenchStack({ storage, account, appDir });
  const hostReadyMs = Date.now() - t0;
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
    return { hostReadyMs, firstContainmentMs: first.measuredMs, warmContainmentMs: summarize(warm).p50 };
  } finally {
    await stack.stop();
  }
}

/**
 * One CommonJS file holding every function and its dependencies, minified, beside host.json and a package.json
 * whose `main` names it. Only the worker's own `@azure/functions-core` stays external, as the worker provides it.
 * It sits in `dist/` so that shared/version.ts still finds package.json one level up.
 */
async function bundleApp(): Promise<{ dir: string; buildMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bundle-'));
  mkdirSync(join(dir, 'dist'));
  const functionsDir = join(REPO_ROOT, 'dist', 'functions');
  const entries = readdirSync(functionsDir).filter((f) => f.endsWith('.js'));
  const t0 = performance.now();
  await build({
    stdin: { contents: entries.map((f) => `require('./${f}');`).join('\n'), resolveDir: functionsDir, loader: 'js' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    external: ['@azure/functions-core'],
    outfile: join(dir, 'dist', 'functions.js'),
    logLevel: 'silent',
  });
  const buildMs = Math.round(performance.now() - t0);
  // esbuild keeps a service process for further builds; there are none.
  await stop();
  copyFileSync(join(REPO_ROOT, 'host.json'), join(dir, 'host.json'));
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: pkg['name'], version: pkg['version'], main: 'dist/functions.js' }, null, 2));
  return { dir, buildMs };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}
