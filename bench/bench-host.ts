import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { sleep } from './map-limit';

export interface BenchHost {
  url: string;
  port: number;
  /** Process id of the current host process (changes after {@link restart}). */
  pid(): number | undefined;
  /** Everything the host processes printed, across restarts. */
  output(): string;
  /** SIGKILL: the worker dies mid-invocation, as on an instance crash; nothing is drained or given back. */
  kill(): Promise<void>;
  /** A new host process on the same port and storage. */
  restart(): Promise<void>;
  /** SIGTERM (graceful drain), then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface BenchHostOptions {
  /** Directory holding host.json, package.json and dist/ (the repository, or a copy with another host.json). */
  appDir: string;
  /** `dist/dev/host/main.js` of this build. */
  hostMain: string;
  env: Record<string, string>;
  port: number;
  /** Extra Node flags for the host process, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
}

/**
 * The local Functions host in a child process, like `dev/host/spawn-local-host.ts`, but keeping the child so a
 * benchmark can SIGKILL it mid-storm and start a replacement on the same storage (the crash scenario).
 */
export async function startBenchHost(opts: BenchHostOptions): Promise<BenchHost> {
  const url = `http://127.0.0.1:${opts.port}`;
  let child: ChildProcess | undefined;
  let output = '';
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const launch = async (): Promise<void> => {
    const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.hostMain, '--app-dir', resolve(opts.appDir)], {
      env: { ...process.env, ...opts.env, PORT: String(opts.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) {
        throw new Error(`Local host exited with code ${proc.exitCode} before it was ready:\n${output.slice(-4000)}`);
      }
      try {
        const res = await fetch(`${url}/admin/host/status`);
        if (res.ok) {
          return;
        }
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`Local host did not become ready within 60 s:\n${output.slice(-4000)}`);
      }
      await sleep(50);
    }
  };

  const waitExit = (proc: ChildProcess): Promise<void> =>
    proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((done) => proc.once('exit', () => done()));

  await launch();
  return {
    url,
    port: opts.port,
    pid: () => child?.pid,
    output: () => output,
    async kill() {
      const proc = child;
      if (proc) {
        proc.kill('SIGKILL');
        await waitExit(proc);
      }
    },
    restart: launch,
    async stop() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
        process.off('exit', killOnExit);
        return;
      }
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.kill('SIGTERM');
      await waitExit(proc);
      clearTimeout(timer);
      process.off('exit', killOnExit);
    },
  };
}
