/**
 * `npm start`: the app on this machine, no Azure needed. Starts embedded Azurite (unless AzureWebJobsStorage
 * is set), the tenant simulator with the demo tenant (unless GRAPH_ENDPOINT is set), and the local host that
 * serves the compiled app like `func start`. Ctrl-C stops everything.
 */
import { resolve } from 'node:path';
import { startAzurite } from './azurite';
import { startSimulator } from './simulator/start-simulator';
import { DEMO } from './simulator/demo-ids';
import { spawnLocalHost } from './host/spawn-local-host';
import { simulatorAppEnv } from './app-env';

async function main(): Promise<void> {
  const port = Number(process.env['PORT'] ?? 7071);
  const base = `http://localhost:${port}`;
  const stops: (() => Promise<void>)[] = [];
  let storage = process.env['AzureWebJobsStorage'];
  if (!storage) {
    const azurite = await startAzurite({ inMemory: true, silent: true });
    stops.push(() => azurite.stop());
    storage = azurite.connectionString();
    console.log(`Azurite (in memory)     blob :${azurite.blobPort}  queue :${azurite.queuePort}  table :${azurite.tablePort}`);
  }
  let env: Record<string, string> = { AzureWebJobsStorage: storage };
  if (!process.env['GRAPH_ENDPOINT']) {
    const sim = await startSimulator({ port: Number(process.env['SIMULATOR_PORT'] ?? 0) });
    stops.push(() => sim.stop());
    env = simulatorAppEnv(sim, storage, base);
    console.log(`Tenant simulator        ${sim.url}   (state: ${sim.url}/_sim/state, calls: ${sim.url}/_sim/calls, tickets: ${sim.url}/_sim/tickets)`);
  }
  const host = await spawnLocalHost({ appDir: resolve(__dirname, '..', '..'), env, port, echo: process.stdout });
  stops.push(() => host.stop());
  console.log(`
Agent responders        ${base}/api   (health: ${base}/api/health)
${
  env['GRAPH_ENDPOINT']
    ? `Demo tenant:
  agent identity   Contoso Invoice Agent   ${DEMO.agents.invoice}   (named by the demo incident)
  blueprint principal                      ${DEMO.blueprintPrincipal}   (held for approval)
  classic SP (tagged agent)                ${DEMO.classicSp}
  Microsoft first party (never touched)    ${DEMO.firstPartySp}
  agent user                               ${DEMO.agentUserUpns[0]}
  approvers (sign in at ${base}/.auth/login/dev)  ${DEMO.approverUpns.join(', ')}
  Sentinel incident                        ${DEMO.incident.armId}
Try: curl -s -X POST ${base}/api/alerts -H 'content-type: application/json' -d @test/fixtures/demo/incident.json`
    : ''
}
Ctrl-C stops everything.`);
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) {
      await stop().catch(() => undefined);
    }
    process.exit(0);
  };
  process.once('SIGINT', () => void stopAll());
  process.once('SIGTERM', () => void stopAll());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
