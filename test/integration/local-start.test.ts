/**
 * `npm start` as a person runs it: `node dist/dev/start.js` (build first), on free ports given through the same
 * variables the README documents, killed the way a terminal or a supervisor kills it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/free-port';

const START = join(__dirname, '..', '..', 'dist', 'dev', 'start.js');

interface Started {
  child: ChildProcess;
  ports: { app: number; simulator: number; blob: number; queue: number; table: number };
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

async function startLocal(extraEnv: Record<string, string> = {}, given?: Partial<Started['ports']>): Promise<Started> {
  const ports = {
    app: given?.app ?? (await freePort()),
    simulator: given?.simulator ?? (await freePort()),
    blob: given?.blob ?? (await freePort()),
    queue: given?.queue ?? (await freePort()),
    table: given?.table ?? (await freePort()),
  };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // A developer's own storage or Graph settings would change what start.js starts.
    if (v !== undefined && !['AzureWebJobsStorage', 'GRAPH_ENDPOINT', 'RESPONDER_MODE', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER'].includes(k)) {
      env[k] = v;
    }
  }
  Object.assign(env, {
    PORT: String(ports.app),
    SIMULATOR_PORT: String(ports.simulator),
    AZURITE_BLOB_PORT: String(ports.blob),
    AZURITE_QUEUE_PORT: String(ports.queue),
    AZURITE_TABLE_PORT: String(ports.table),
    ...extraEnv,
  });
  const child = spawn(process.execPath, [START], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  return { child, ports, stdout: () => out, stderr: () => err, exit };
}

async function until(what: string, check: () => boolean, started: Started, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline || started.child.exitCode !== null) {
      throw new Error(`${what} did not happen:\n${started.stdout()}\n${started.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ready = (s: Started) => until('the banner', () => s.stdout().includes('Ctrl-C stops everything'), s);

function connects(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Process ids of the children of `pid` (Azurite and the local host run as children of start.js). */
function childPids(pid: number): number[] {
  const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const allPorts = (s: Started) => Object.values(s.ports);

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  }
});

describe('npm start (dist/dev/start.js)', () => {
  it('listens on 127.0.0.1 only, where its banner says, and names the mode', async () => {
    const s = await startLocal();
    await ready(s);
    const out = s.stdout();
    expect(out).toMatch(/^Mode {2,}enforce: /m);
    expect(out).toContain(`Agent responders        http://127.0.0.1:${s.ports.app}/api`);
    expect(out).toContain(`Tenant simulator        http://127.0.0.1:${s.ports.simulator}`);
    expect(out).toContain(`blob 127.0.0.1:${s.ports.blob}  queue 127.0.0.1:${s.ports.queue}  table 127.0.0.1:${s.ports.table}`);
    expect((await fetch(`http://127.0.0.1:${s.ports.app}/api/health`)).status).toBe(200);
    for (const port of allPorts(s)) {
      expect(await connects(port, '127.0.0.1'), `127.0.0.1:${port}`).toBe(true);
      // A wildcard listener would accept these too; a loopback-only one refuses them.
      expect(await connects(port, '127.0.0.2'), `127.0.0.2:${port}`).toBe(false);
      expect(await connects(port, '::1'), `[::1]:${port}`).toBe(false);
    }
    s.child.kill('SIGTERM');
    await s.exit;
  });

  it('says report-only in its banner when RESPONDER_MODE=report-only', async () => {
    const s = await startLocal({ RESPONDER_MODE: 'report-only' });
    await ready(s);
    expect(s.stdout()).toMatch(/^Mode {2,}report-only: every step is planned and recorded, nothing is changed$/m);
    s.child.kill('SIGINT');
    expect((await s.exit).code).toBe(0);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('stops Azurite, the simulator and the host on %s, and exits 0', async (signal) => {
    const s = await startLocal();
    await ready(s);
    const pids = childPids(s.child.pid ?? 0);
    expect(pids.length).toBeGreaterThanOrEqual(2); // Azurite and the local host
    s.child.kill(signal);
    const { code } = await s.exit;
    expect(code).toBe(0);
    for (const pid of pids) {
      const deadline = Date.now() + 10_000;
      while (alive(pid) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(alive(pid), `child ${pid} still running`).toBe(false);
    }
    for (const port of allPorts(s)) {
      expect(await connects(port, '127.0.0.1'), `port ${port} still open`).toBe(false);
    }
  });

  it('stops with one clear line and a non-zero exit when a port is taken, starting nothing', async () => {
    const busy: Server = createServer();
    const port = await freePort();
    await new Promise<void>((done) => busy.listen(port, '127.0.0.1', () => done()));
    try {
      const s = await startLocal({}, { app: port });
      const { code } = await s.exit;
      expect(code).toBe(1);
      const lines = s.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(
        `error: port ${port} (the app (local Functions host)) on 127.0.0.1 is already in use: stop what holds it (another npm start?) or set PORT=<port>`,
      );
      expect(s.stdout()).not.toContain('Ctrl-C stops everything');
      for (const other of [s.ports.simulator, s.ports.blob, s.ports.queue, s.ports.table]) {
        expect(await connects(other, '127.0.0.1'), `port ${other}`).toBe(false);
      }
    } finally {
      await new Promise<void>((done) => busy.close(() => done()));
    }
  });

  it('names the variable of a port that is not a number', async () => {
    const s = await startLocal({ SIMULATOR_PORT: 'seventy' });
    expect((await s.exit).code).toBe(1);
    expect(s.stderr().trim()).toBe('error: SIMULATOR_PORT must be a port number (1-65535), got "seventy"');
  });
});
