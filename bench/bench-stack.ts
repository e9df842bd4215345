import { resolve } from 'node:path';
import { simulatorAppEnv } from '../dev/app-env';
import { freePort } from '../dev/free-port';
import { startSimulator, type Knobs, type Simulator } from '../dev/simulator/start-simulator';
import { startBenchHost, type BenchHost } from './bench-host';

/** The repository root, from `dist/bench/` at run time. */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** Where storage accounts come from: the benchmark's Azurite, or the storage tap in front of it. */
export interface StorageAccounts {
  connectionString(account: string): string;
}

export interface BenchStack {
  sim: Simulator;
  host: BenchHost;
  env: Record<string, string>;
  /** Storage account of the shared Azurite this stack uses (one per scenario, so queues never mix). */
  account: string;
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  storage: StorageAccounts;
  account: string;
  env?: Record<string, string>;
  knobs?: Partial<Knobs>;
  /** Default: the repository (its host.json, and package.json `main`: the bundle). */
  appDir?: string;
  /** Files to load instead of package.json `main` (e.g. the `tsc` output). */
  main?: string;
}

/**
 * The app as `npm start` runs it: the tenant simulator in this process (so the benchmark reads its call log
 * and clock directly), a storage account of the benchmark's Azurite, and the local host in a child process.
 * The blast-radius limit is raised: thousands of containments an hour are the point of a benchmark, and held
 * containments would measure the guardrail instead of the responder.
 */
export async function startBenchStack(opts: BenchStackOptions): Promise<BenchStack> {
  const sim = await startSimulator({ knobs: opts.knobs ?? {} });
  const port = await freePort();
  const env = simulatorAppEnv(sim, opts.storage.connectionString(opts.account), `http://127.0.0.1:${port}`, {
    LOCAL_HOST_DISABLE_TIMERS: 'true',
    BLAST_RADIUS_PER_HOUR: '100000',
    ...opts.env,
  });
  let host: BenchHost;
  try {
    host = await startBenchHost({ appDir: opts.appDir ?? REPO_ROOT, env, port, ...(opts.main ? { main: opts.main } : {}) });
  } catch (err) {
    await sim.stop();
    throw err;
  }
  return {
    sim,
    host,
    env,
    account: opts.account,
    async stop() {
      await host.stop();
      await sim.stop();
    },
  };
}
