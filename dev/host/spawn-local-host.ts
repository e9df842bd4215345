import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../free-port';

export interface SpawnedLocalHost {
  url: string;
  port: number;
  /** Everything the host printed so far (stdout and stderr interleaved). */
  output(): string;
  /** The exit code once the process ended (0 after a graceful stop), else null. */
  exitCode(): number | null;
  /** Settles when the process has ended, for whatever reason. */
  exited: Promise<void>;
  /** The child's process id. */
  pid: number | undefined;
  /** SIGTERM (graceful drain), then SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL at once, as a crashed worker: nothing is drained or handed back (crash-recovery tests). */
  kill(): Promise<void>;
}

export interface SpawnLocalHostOptions {
  appDir: string;
  env?: Record<string, string>;
  /** Default: a free port. */
  port?: number;
  /** How long to wait for `/admin/host/status` (default 30 s). */
  startTimeoutMs?: number;
  /** Also write the host's output here as it comes (`npm start` passes stdout). */
  echo?: NodeJS.WritableStream;
  /** Files to load instead of package.json `main` (a glob relative to `appDir`). */
  main?: string;
}

/**
 * Runs the compiled local host (`dist/dev/host/main.js`, so run `tsc` first) in a child process, as e2e tests and
 * `npm start` do, and resolves once it answers `/admin/host/status`.
 */
export async function spawnLocalHost(opts: SpawnLocalHostOptions): Promise<SpawnedLocalHost> {
  const port = opts.port ?? (await freePort());
  const args = [compiledMain(), '--app-dir', resolve(opts.appDir), ...(opts.main ? ['--main', opts.main] : [])];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...opts.env, PORT: String(port) },
    // The IPC channel is only a lifeline: the host stops when it closes (see main.ts).
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // Do not leave a host (and its queue pollers) running if the parent dies without calling stop().
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
    opts.echo?.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(kill);
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`Local host exited with code ${child.exitCode} before it was ready:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/admin/host/status`);
      if (res.ok) {
        break;
      }
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Local host did not become ready within the timeout:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    child.kill('SIGKILL');
    await exited;
  };
  return { url, port, output: () => output, exitCode: () => child.exitCode, exited, pid: child.pid, stop, kill };
}

/** The compiled entry point, whether this module runs compiled (dist/) or from source (vitest). */
function compiledMain(): string {
  const besideThis = join(__dirname, 'main.js');
  const fromSource = resolve(__dirname, '..', '..', 'dist', 'dev', 'host', 'main.js');
  const path = existsSync(besideThis) ? besideThis : fromSource;
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist: run "npx tsc -p tsconfig.json" first`);
  }
  return path;
}
