import { startSimulator } from './start-simulator';

/**
 * Run the simulator on its own: `node dist/dev/simulator/cli.js [--port 4010] [--seed demo|empty]`.
 * Prints the URL on the first line, then the managed-identity settings the app needs.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const port = Number(arg('port') ?? process.env.SIMULATOR_PORT ?? 0);
  const seedArg = arg('seed') ?? 'demo';
  if (seedArg !== 'demo' && seedArg !== 'empty') {
    throw new Error(`--seed must be demo or empty, got '${seedArg}'`);
  }
  const sim = await startSimulator({ port, seed: seedArg });
  process.stdout.write(`${sim.url}\n`);
  process.stdout.write(`IDENTITY_ENDPOINT=${sim.identityEndpoint}\n`);
  process.stdout.write(`IDENTITY_HEADER=${sim.identityHeader}\n`);
  process.stdout.write(`GRAPH_ENDPOINT=${sim.url}\nARM_ENDPOINT=${sim.url}\nLOG_ANALYTICS_ENDPOINT=${sim.url}\n`);
  const stop = (): void => {
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
