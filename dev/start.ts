/**
 * `npm start`: the app on this machine, no Azure needed. Starts embedded Azurite (unless AzureWebJobsStorage is set),
 * the tenant simulator with the demo tenant (unless GRAPH_ENDPOINT is set) and the local host serving the compiled
 * app like `func start`; everything listens on 127.0.0.1 only, on fixed ports (dev/local-start-ports.ts).
 *
 * - A port that is taken stops everything before anything starts, with one line naming the port and a non-zero exit.
 * - SIGINT (Ctrl-C) and SIGTERM stop every child (host, simulator, Azurite) and exit 0; a second signal exits at once.
 * - The banner says the mode (enforce / report-only) and where everything listens.
 */
import { resolve } from 'node:path';
import { startAzurite, type Azurite } from './azurite';
import { startSimulator, type Simulator } from './simulator/start-simulator';
import { DEMO } from './simulator/demo-ids';
import { spawnLocalHost, type SpawnedLocalHost } from './host/spawn-local-host';
import { simulatorAppEnv } from './app-env';
import { LOCAL_START_PORTS, localStartPorts, type LocalStartPorts } from './local-start-ports';
import { portProblem } from './port-problem';

const HOST = '127.0.0.1';

/** A start-up failure already worded for the person at the terminal. */
class StartError extends Error {}

interface Running {
  azurite?: Azurite;
  sim?: Simulator;
  host?: SpawnedLocalHost;
}

const running: Running = {};
let stopping = false;

/**
 * Stops the host first (it drains), then the simulator, then storage. Safe to call again: each part is taken out of
 * `running` before it is stopped, and a part that finishes starting after a signal is stopped by the next call.
 */
async function stopAll(): Promise<void> {
  const { host, sim, azurite } = running;
  running.host = running.sim = running.azurite = undefined;
  await host?.stop().catch(() => undefined);
  await sim?.stop().catch(() => undefined);
  await azurite?.stop().catch(() => undefined);
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    // Second Ctrl-C: do not wait for the drain (Azurite and the host are killed on exit).
    process.exit(130);
  }
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the host, the simulator and Azurite...\n`);
  void stopAll().then(() => process.exit(0));
}

async function checkPorts(ports: LocalStartPorts, needed: (keyof LocalStartPorts)[]): Promise<void> {
  for (const key of needed) {
    const problem = await portProblem(ports[key], HOST);
    if (problem) {
      const { env, what } = LOCAL_START_PORTS[key];
      throw new StartError(`port ${ports[key]} (${what}) on ${HOST} ${problem}: stop what holds it (another npm start?) or set ${env}=<port>`);
    }
  }
}

async function main(): Promise<void> {
  // Handlers first: a signal during start-up must still stop whatever has started.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let ports: LocalStartPorts;
  try {
    ports = localStartPorts(process.env);
  } catch (err) {
    throw new StartError(err instanceof Error ? err.message : String(err));
  }
  const ownStorage = !process.env['AzureWebJobsStorage'];
  const ownTenant = !process.env['GRAPH_ENDPOINT'];
  await checkPorts(ports, [
    'app',
    ...(ownTenant ? (['simulator'] as const) : []),
    ...(ownStorage ? (['azuriteBlob', 'azuriteQueue', 'azuriteTable'] as const) : []),
  ]);

  const base = `http://${HOST}:${ports.app}`;
  let storage = process.env['AzureWebJobsStorage'] ?? '';
  if (ownStorage) {
    running.azurite = await startPart('Azurite', () =>
      startAzurite({ inMemory: true, silent: true, ports: { blobPort: ports.azuriteBlob, queuePort: ports.azuriteQueue, tablePort: ports.azuriteTable } }),
    );
    storage = running.azurite.connectionString();
    if (stopping) {
      return stopAll();
    }
  }
  let env: Record<string, string> = { AzureWebJobsStorage: storage };
  if (ownTenant) {
    running.sim = await startPart('the tenant simulator', () => startSimulator({ port: ports.simulator }));
    const mode = process.env['RESPONDER_MODE'];
    env = simulatorAppEnv(running.sim, storage, base, mode ? { RESPONDER_MODE: mode } : {});
    if (stopping) {
      return stopAll();
    }
  }
  const host = await startPart('the local host', () => spawnLocalHost({ appDir: resolve(__dirname, '..', '..'), env, port: ports.app, echo: process.stdout }));
  running.host = host;
  if (stopping) {
    return stopAll();
  }
  // The host ending on its own (a crash) ends the whole start, so nothing is left half running.
  void host.exited.then(async () => {
    if (!stopping) {
      stopping = true;
      process.stderr.write(`error: the local host exited (code ${host.exitCode() ?? 'unknown'}); stopping.\n`);
      await stopAll();
      process.exit(1);
    }
  });
  process.stdout.write(banner(ports, base, env, ownStorage));
}

/** Runs one start step, turning its failure into one line naming the part. */
async function startPart<T>(what: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    throw new StartError(`could not start ${what}: ${first}`);
  }
}

function banner(ports: LocalStartPorts, base: string, env: Record<string, string>, ownStorage: boolean): string {
  const mode = env['RESPONDER_MODE'] ?? process.env['RESPONDER_MODE'] ?? 'report-only';
  const modeLine =
    mode === 'enforce'
      ? 'enforce: containments run (against the tenant simulator; RESPONDER_MODE=report-only npm start only plans them)'
      : 'report-only: every step is planned and recorded, nothing is changed';
  const sim = env['GRAPH_ENDPOINT'];
  const lines = [
    '',
    `Mode                    ${modeLine}`,
    `Agent responders        ${base}/api   (health: ${base}/api/health)`,
    ownStorage
      ? `Azurite (in memory)     blob ${HOST}:${ports.azuriteBlob}  queue ${HOST}:${ports.azuriteQueue}  table ${HOST}:${ports.azuriteTable}`
      : 'Storage                 AzureWebJobsStorage from the environment',
  ];
  if (sim && env['LOCAL_DEV_USERS']) {
    lines.push(
      `Tenant simulator        ${sim}   (state: ${sim}/_sim/state, calls: ${sim}/_sim/calls, tickets: ${sim}/_sim/tickets)`,
      'Demo tenant:',
      `  agent identity   Contoso Invoice Agent   ${DEMO.agents.invoice}   (named by the demo incident)`,
      `  blueprint principal                      ${DEMO.blueprintPrincipal}   (held for approval)`,
      `  classic SP (tagged agent)                ${DEMO.classicSp}`,
      `  Microsoft first party (never touched)    ${DEMO.firstPartySp}`,
      `  agent user                               ${DEMO.agentUserUpns[0]}`,
      `  approvers (sign in at ${base}/.auth/login/dev)  ${DEMO.approverUpns.join(', ')}`,
      `  Sentinel incident                        ${DEMO.incident.armId}`,
      `Try: curl -s -X POST ${base}/api/alerts -H 'content-type: application/json' -d @test/fixtures/demo/incident.json`,
    );
  } else {
    lines.push(`Microsoft Graph         ${process.env['GRAPH_ENDPOINT'] ?? ''}`);
  }
  lines.push('Listening on 127.0.0.1 only. Ctrl-C stops everything.', '');
  return lines.join('\n');
}

main().catch(async (err: unknown) => {
  stopping = true;
  await stopAll();
  // One line for the person at the terminal; anything unexpected keeps its stack.
  process.stderr.write(err instanceof StartError ? `error: ${err.message}\n` : `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
