import { resolve } from 'node:path';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../dev/simulator/start-simulator';
import { spawnLocalHost, type SpawnedLocalHost } from '../../dev/host/spawn-local-host';
import { freePort } from '../../dev/free-port';
import { LOCAL_AUTH, simulatorAppEnv } from '../../dev/app-env';
import { mintAccessToken } from './approval-sign-in';
import { claimStorageAccount } from './storage-account';
import { graphFeaturesFor, plannedPermissions } from './planned-permissions';

export interface Stack {
  sim: Simulator;
  host: SpawnedLocalHost;
  /** e.g. http://127.0.0.1:7071 */
  url: string;
  env: Record<string, string>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }>;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; text: string; headers: Headers }>;
  /** SIGKILLs the host (a crashed worker: nothing drained, queue messages it held stay invisible). */
  crashHost(): Promise<void>;
  /** Starts a new host on the same port, storage and settings (after {@link crashHost} or a stop). */
  restartHost(): Promise<void>;
  /** Polls `GET /api/cases/{id}` until `done(case)` holds (or throws with the last case seen). */
  waitForCase(caseId: string, done: (c: CaseJson) => boolean, timeoutMs?: number): Promise<CaseJson>;
  stop(): Promise<void>;
}

export interface CaseJson {
  caseId: string;
  status: string;
  mode: string;
  note?: string;
  ticket?: { provider: string; id: string; number?: string };
  verification?: { state: string; detail: string };
  targets: {
    key: string;
    objectId?: string;
    kind?: string;
    displayName?: string;
    plan?: string;
    round?: number;
    verification?: { state: string; detail: string; suspicious?: boolean };
    status: string;
    reason?: string;
    approvalId?: string;
    resolvedAt?: string;
    accessCutAt?: string;
    timeToAccessCutMs?: number;
    steps: { action: string; state: string; errorCode?: string; error?: string; graphRequestIds: string[]; attempts: number }[];
  }[];
  caseSteps: { action: string; state: string; errorCode?: string }[];
  rejectedEntities: { kind: string; reason: string }[];
}

const ROOT = resolve(__dirname, '..', '..');

/**
 * The whole app as it runs with `npm start`: the tenant simulator (in this process, so tests can read and
 * steer it), a storage account of the shared Azurite, and the local host in a child process serving the
 * compiled app. Nothing of our own is mocked. The simulator grants exactly the permissions
 * `infra/grant-graph-permissions.sh --plan-only` prints for `features` (default: those the settings turn on).
 */
/** App settings for a stack: fixed, or made from the simulator's addresses (e.g. a webhook on the simulator). */
export type StackEnv = Record<string, string> | ((sim: Pick<Simulator, 'url'>) => Record<string, string>);

export async function startStack(
  opts: { env?: StackEnv; simulator?: SimulatorOptions; features?: readonly string[]; /** Default: the repository (package.json `main`, the bundle). */ appDir?: string } = {},
): Promise<Stack> {
  const appDir = opts.appDir ?? ROOT;
  const envFor = (sim: Pick<Simulator, 'url'>) => (typeof opts.env === 'function' ? opts.env(sim) : opts.env);
  // Least privilege, proven: the simulator grants exactly what the grant script grants for the features the settings
  // turn on (or `features`, to opt in), unless a test sets grantedPermissions itself.
  const settings = simulatorAppEnv({ url: '', identityEndpoint: '', identityHeader: '' }, '', '', envFor({ url: '' }));
  const grantedPermissions = opts.simulator?.knobs?.grantedPermissions ?? plannedPermissions(opts.features ?? graphFeaturesFor(settings));
  const sim = await startSimulator({ ...opts.simulator, knobs: { ...opts.simulator?.knobs, grantedPermissions } });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The intake takes alerts from the demo playbook's managed identity only, as a deployment should: every
  // `post('/api/alerts', …)` carries its access token unless the test sends its own `authorization` header.
  const env = simulatorAppEnv(sim, claimStorageAccount(), url, { LOCAL_HOST_DISABLE_TIMERS: 'true', INTAKE_ALLOWED_CALLERS: LOCAL_AUTH.playbook.objectId, ...envFor(sim) });
  const playbookToken = await mintAccessToken(sim.url, LOCAL_AUTH.playbook.objectId, { appId: LOCAL_AUTH.playbook.appId });
  let host: SpawnedLocalHost;
  try {
    host = await spawnLocalHost({ appDir, env, port });
  } catch (err) {
    await sim.stop();
    throw err;
  }
  const call = async (method: string, path: string, body?: unknown, given: Record<string, string> = {}) => {
    const asPlaybook = path === '/api/alerts' && !Object.keys(given).some((k) => k.toLowerCase() === 'authorization');
    const headers = asPlaybook ? { authorization: `Bearer ${playbookToken}`, ...given } : given;
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = {};
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
  const stack: Stack = {
    sim,
    host,
    url,
    env,
    post: (path, body, headers) => call('POST', path, body, headers),
    get: (path, headers) => call('GET', path, undefined, headers),
    async waitForCase(caseId, done, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: CaseJson | undefined;
      while (Date.now() < deadline) {
        const res = await call('GET', `/api/cases/${caseId}`);
        if (res.status === 200) {
          last = res.body as unknown as CaseJson;
          if (done(last)) {
            return last;
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`case ${caseId} did not reach the expected state; last seen: ${JSON.stringify(last, null, 1)}\n--- host output ---\n${stack.host.output().slice(-4000)}`);
    },
    async crashHost() {
      await stack.host.kill();
    },
    async restartHost() {
      await stack.host.kill();
      stack.host = await spawnLocalHost({ appDir, env, port });
    },
    async stop() {
      await stack.host.stop();
      await sim.stop();
    },
  };
  return stack;
}

/** Whether every target reached a state that will not change without a human. */
export function settled(c: CaseJson): boolean {
  return ['done', 'held', 'partial', 'failed', 'suspicious', 'ignored'].includes(c.status);
}
