import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { startAzurite } from '../dev/azurite';
import { simulatorAppEnv } from '../dev/app-env';
import { DEMO } from '../dev/simulator/demo-ids';
import { loadConfig } from '../shared/config';
import { buildDeps } from '../shared/deps';
import { createGraph } from '../shared/graph/graph-client';
import { INVENTORY_PAGE_SIZE, isInventoryPath } from '../shared/graph/agent-inventory';
import { BATCH_MAX } from '../shared/graph/batch';
import { runLifecycleSweep, type SweepSummary } from '../shared/lifecycle/run-lifecycle-sweep';

export interface RequestCounts {
  pages: number;
  batches: number;
  other: number;
  total: number;
}

export interface LifecycleBenchResult {
  agents: number;
  /** The sweep runs in enforce mode: cases recorded and queued, mails sent, tickets opened. */
  mode: 'enforce';
  /** One sweep, from acquiring the lease to the summary written. */
  wallMs: number;
  /** HTTP round trips to Graph, retries included. */
  graphRequests: RequestCounts;
  /** The fewest Graph requests that can do the same work (see {@link minimumRequests}). */
  minimumRequests: number;
  minimum: RequestCounts;
  /** Peak resident set size of this process (the sweep; the simulator and Azurite run in their own processes). */
  peakRssMb: number;
  /** Resident set size before the sweep started. */
  baselineRssMb: number;
  /** CPU time (user + system) of this process during the sweep: what the sweep costs, whatever the machine's load. */
  cpuMs: number;
  summary: SweepSummary;
}

/** The share of generated agents in each state: enough of every rule to load storage, mail and tickets. */
const FRACTIONS = { expiredFraction: 0.01, expiringFraction: 0.02, orphanFraction: 0.005 };
const REPO_ROOT = resolve(__dirname, '..', '..');
const SIMULATOR_CLI = join(REPO_ROOT, 'dist', 'dev', 'simulator', 'cli.js');

interface ChildSimulator {
  url: string;
  identityEndpoint: string;
  identityHeader: string;
  stop(): Promise<void>;
}

/**
 * The tenant simulator in its own process, so its 100,000 objects and call log do not count in the sweep's
 * memory, and it has a core of its own as Graph would.
 */
async function startChildSimulator(): Promise<ChildSimulator> {
  const child: ChildProcess = spawn(process.execPath, [SIMULATOR_CLI, '--seed', 'empty'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const lines = createInterface({ input: child.stdout ?? process.stdin });
  const values: string[] = [];
  for await (const line of lines) {
    values.push(line.trim());
    if (values.length === 3) {
      break;
    }
  }
  const [url, identity, header] = values;
  if (!url || !identity || !header) {
    throw new Error('the simulator did not start');
  }
  return {
    url,
    identityEndpoint: identity.replace(/^IDENTITY_ENDPOINT=/, ''),
    identityHeader: header.replace(/^IDENTITY_HEADER=/, ''),
    stop: () =>
      new Promise<void>((done) => {
        process.off('exit', killOnExit);
        if (child.exitCode !== null) {
          done();
          return;
        }
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

async function admin(sim: ChildSimulator, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) {
    throw new Error(`${path}: ${res.status} ${await res.text()}`);
  }
  return res.json();
}

/**
 * The fewest Graph requests for the same work: every inventory page (100 agents; the blueprint and
 * tagged-service-principal lists are one empty page each here), two reads per agent (sponsors, owners) at 20
 * per `$batch`, one `sendMail` per warning and one `getByIds` to find the sponsors' mailboxes.
 */
export function minimumRequests(agents: number, warned: number): RequestCounts {
  const pages = Math.max(1, Math.ceil(agents / INVENTORY_PAGE_SIZE)) + 2;
  const batches = Math.ceil((agents * 2) / BATCH_MAX);
  const other = warned + (warned > 0 ? 1 : 0);
  return { pages, batches, other, total: pages + batches + other };
}

/** One sweep over `agents` generated agents, in this process (see {@link benchLifecycleSweep}). */
async function sweepOnce(agents: number): Promise<LifecycleBenchResult> {
  const sim = await startChildSimulator();
  const azurite = await startAzurite();
  try {
    // The sponsor every generated agent names, and the mailbox warnings are sent from.
    await admin(sim, '/_sim/objects', {
      users: [
        { id: DEMO.human, '@odata.type': '#microsoft.graph.user', displayName: 'Dana Sponsor', userPrincipalName: DEMO.humanUpn, mail: DEMO.humanUpn, accountEnabled: true },
        { id: DEMO.mailbox, '@odata.type': '#microsoft.graph.user', displayName: 'Agent Responder Mailbox', userPrincipalName: DEMO.mailboxUpn, mail: DEMO.mailboxUpn, accountEnabled: true },
      ],
    });
    await admin(sim, '/_sim/generate', { agents, ...FRACTIONS });

    // The managed-identity variables App Service sets (this process runs one sweep): @azure/identity runs its production path.
    process.env['IDENTITY_ENDPOINT'] = sim.identityEndpoint;
    process.env['IDENTITY_HEADER'] = sim.identityHeader;
    const config = loadConfig(
      simulatorAppEnv(sim, azurite.connectionString(), 'http://127.0.0.1:7071', {
        LIFECYCLE_EXPIRY_ATTRIBUTE: 'AgentLifecycle.ExpiresOn',
        LIFECYCLE_DELETE_ENABLED: 'true',
      }),
    );
    const counts: RequestCounts = { pages: 0, batches: 0, other: 0, total: 0 };
    const base = await buildDeps(config);
    const graph = createGraph({
      credential: base.credential,
      endpoint: config.GRAPH_ENDPOINT,
      onRequest: ({ method, path }) => {
        counts.total++;
        if (method === 'POST' && path === '/$batch') {
          counts.batches++;
        } else if (method === 'GET' && isInventoryPath(path)) {
          counts.pages++;
        } else {
          counts.other++;
        }
      },
    });
    const deps = { ...base, graph };
    await deps.responderId(); // the token, fetched once as in a warm worker

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const started = Date.now();
    const cpu = process.cpuUsage();
    const summary = await runLifecycleSweep(deps, { invocationId: `bench-${agents}`, log: { info: () => undefined, warn: console.warn, error: console.error }, budgetMs: 30 * 60_000 });
    const wallMs = Date.now() - started;
    const used = process.cpuUsage(cpu);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    const minimum = minimumRequests(agents, summary.actions.warned);
    return {
      agents,
      mode: 'enforce',
      wallMs,
      graphRequests: counts,
      minimumRequests: minimum.total,
      minimum,
      peakRssMb: Math.round(peak / 1024 / 1024),
      baselineRssMb: Math.round(baseline / 1024 / 1024),
      cpuMs: Math.round((used.user + used.system) / 1000),
      summary,
    };
  } finally {
    await azurite.stop();
    await sim.stop();
  }
}

/**
 * `npm run bench`: one lifecycle sweep (enforce mode) per agent count over a simulated tenant, each in a
 * process of its own with its own simulator and Azurite (so peak RSS is that sweep's alone, and no token
 * cached by `@azure/identity` for one simulator is offered to the next): wall time, Graph requests against
 * the minimum, peak RSS.
 */
export async function benchLifecycleSweep(agentCounts: number[]): Promise<LifecycleBenchResult[]> {
  const results: LifecycleBenchResult[] = [];
  for (const agents of agentCounts) {
    const child = spawn(process.execPath, ['--expose-gc', __filename, '--one', String(agents)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    const line = out.trim().split('\n').at(-1) ?? '';
    if (code !== 0 || !line.startsWith('{')) {
      throw new Error(`lifecycle sweep bench for ${agents} agents failed (exit ${String(code)}): ${out.slice(-2000)}`);
    }
    results.push(JSON.parse(line) as LifecycleBenchResult);
  }
  return results;
}


// `node dist/bench/lifecycle-sweep.js [counts…]` runs this benchmark alone; `--one N` is one sweep, in this process.
if (require.main === module) {
  const args = process.argv.slice(2);
  const one = args[0] === '--one' ? Number(args[1]) : undefined;
  const task =
    one !== undefined
      ? sweepOnce(one).then((r) => JSON.stringify(r))
      : benchLifecycleSweep(args.map(Number).filter((n) => n > 0).length > 0 ? args.map(Number).filter((n) => n > 0) : [10_000, 100_000]).then((r) => JSON.stringify(r, null, 1));
  task.then(
    (text) => {
      process.stdout.write(`${text}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
