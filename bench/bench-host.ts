import { spawnLocalHost, type SpawnedLocalHost } from '../dev/host/spawn-local-host';

export interface BenchHost {
  url: string;
  /** Everything the host processes printed, across restarts. */
  output(): string;
  /** SIGKILL: the worker dies mid-invocation, as on an instance crash; nothing is drained or given back. */
  kill(): Promise<void>;
  /** A new host process on the same port, settings and storage. */
  restart(): Promise<void>;
  /** SIGTERM (graceful drain), then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/**
 * The local Functions host in a child process (`spawnLocalHost`), replaceable after a kill on the same port, so
 * the crash benchmark's clients and the simulator keep talking to one address.
 */
export async function startBenchHost(opts: { appDir: string; env: Record<string, string>; port: number; main?: string }): Promise<BenchHost> {
  const previous: SpawnedLocalHost[] = [];
  const spawnOpts = { appDir: opts.appDir, env: opts.env, port: opts.port, startTimeoutMs: 60_000, ...(opts.main ? { main: opts.main } : {}) };
  let current = await spawnLocalHost(spawnOpts);
  return {
    url: current.url,
    output: () => [...previous, current].map((h) => h.output()).join(''),
    kill: () => current.kill(),
    async restart() {
      previous.push(current);
      current = await spawnLocalHost(spawnOpts);
    },
    stop: () => current.stop(),
  };
}
