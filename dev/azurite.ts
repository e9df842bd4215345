import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { freePort } from './free-port';

/** The emulator's well-known default account; kept so `UseDevelopmentStorage`-style connection strings still work. */
export const DEV_STORE_ACCOUNT = 'devstoreaccount1';
export const DEV_STORE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Keep all data in memory (default true), so every run starts empty and nothing is left on disk. */
  inMemory?: boolean;
  /** Extra account names; their keys are derived with {@link deriveAccountKey}. */
  accounts?: string[];
  /** Do not forward Azurite's access log to this process's output (default true). */
  silent?: boolean;
  /** Fixed ports (`npm start` uses Azurite's defaults); default: free ports. */
  ports?: AzuritePorts;
}

export interface AzuritePorts {
  blobPort: number;
  queuePort: number;
  tablePort: number;
}

export interface Azurite extends AzuritePorts {
  /** Connection string for `account` (default `devstoreaccount1`) with explicit endpoints, so any account works. */
  connectionString(account?: string): string;
  stop(): Promise<void>;
}

/**
 * Derives an account key from the account name, so a test that only knows the name (and the ports) can build the
 * connection string without the key travelling between processes. These are emulator keys, not secrets.
 */
export function deriveAccountKey(account: string): string {
  if (account === DEV_STORE_ACCOUNT) {
    return DEV_STORE_KEY;
  }
  return createHash('sha512').update(`azurite-local-account:${account}`).digest('base64');
}

/** Builds an Azurite connection string with path-style endpoints (the account is the first path segment). */
export function azuriteConnectionString(ports: AzuritePorts, account = DEV_STORE_ACCOUNT): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${account}`,
    `AccountKey=${deriveAccountKey(account)}`,
    `BlobEndpoint=http://127.0.0.1:${ports.blobPort}/${account}`,
    `QueueEndpoint=http://127.0.0.1:${ports.queuePort}/${account}`,
    `TableEndpoint=http://127.0.0.1:${ports.tablePort}/${account}`,
  ].join(';');
}

/** Starts an Azurite child process (on free ports unless given) and resolves once blob, queue and table all accept connections. */
export async function startAzurite(opts: AzuriteOptions = {}): Promise<Azurite> {
  const inMemory = opts.inMemory ?? true;
  const silent = opts.silent ?? true;
  const ports: AzuritePorts = opts.ports ?? { blobPort: await freePort(), queuePort: await freePort(), tablePort: await freePort() };
  const accounts = [DEV_STORE_ACCOUNT, ...(opts.accounts ?? []).filter((a) => a !== DEV_STORE_ACCOUNT)];

  const entry = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
  const args = [
    entry,
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    '--blobHost', '127.0.0.1', '--blobPort', String(ports.blobPort),
    '--queueHost', '127.0.0.1', '--queuePort', String(ports.queuePort),
    '--tableHost', '127.0.0.1', '--tablePort', String(ports.tablePort),
  ];
  if (inMemory) {
    args.push('--inMemoryPersistence');
  } else {
    // Azurite writes its workspace into cwd by default; keep that out of the repository.
    args.push('--location', mkdtempSync(join(tmpdir(), 'azurite-')));
  }
  if (silent) {
    args.push('--silent');
  }

  const child = spawn(process.execPath, args, {
    env: { ...process.env, AZURITE_ACCOUNTS: accounts.map((a) => `${a}:${deriveAccountKey(a)}`).join(';') },
    stdio: ['ignore', silent ? 'pipe' : 'inherit', 'pipe'],
  });
  // An emulator outliving its parent (crash, process.exit) would hold ports and memory until someone notices.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  try {
    await waitForPorts(child, [ports.blobPort, ports.queuePort, ports.tablePort], 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`Azurite did not start: ${err instanceof Error ? err.message : String(err)}\n${output}`);
  }

  return {
    ...ports,
    connectionString: (account?: string) => azuriteConnectionString(ports, account),
    stop: () => stopChild(child),
  };
}

async function waitForPorts(child: ChildProcess, ports: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`exited with code ${child.exitCode}`);
      }
      if (await canConnect(port)) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
