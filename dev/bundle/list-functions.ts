import { relative, resolve, sep } from 'node:path';
import { loadApp } from '../host/load-app';

/**
 * `node dist/dev/bundle/list-functions.js <appDir> [main glob]`: loads the app as the worker does, in this fresh
 * process, and prints as JSON what it registered (every function's name, bindings and retry options, sorted by
 * name), how many hooks of each kind, which of the app directory's own files were loaded, and the instrumenter each
 * loaded copy of `@azure/core-tracing` got (the Azure SDK's spans; set by the Azure Monitor distro when telemetry is
 * on). The bundle tests compare the `tsc` build with the deployment package through it.
 */
const [appDirArg, main] = process.argv.slice(2);
if (appDirArg === undefined) {
  throw new Error('usage: node list-functions.js <appDir> [main glob]');
}
const appDir = resolve(appDirArg);
const { api } = loadApp(appDir, main);
const functions = [...api.functions.values()]
  .map(({ metadata }) => ({ name: metadata.name, bindings: metadata.bindings, retryOptions: metadata.retryOptions ?? null }))
  .sort((a, b) => a.name.localeCompare(b.name));
const hooks = Object.fromEntries([...api.hooks].map(([name, set]) => [name, set.size]));
const appFiles = Object.keys(require.cache)
  .filter((f) => f.startsWith(appDir + sep) && !f.includes(`${sep}node_modules${sep}`))
  .map((f) => relative(appDir, f).split(sep).join('/'))
  .sort();
// core-tracing keeps its instrumenter in dist/commonjs/state.js (not exported); read it from the module cache.
const tracingInstrumenters = Object.entries(require.cache)
  .filter(([f]) => /[\\/]@azure[\\/]core-tracing[\\/]dist[\\/]commonjs[\\/]state\.js$/.test(f))
  .map(([, m]) => (m?.exports as { state?: { instrumenterImplementation?: object } }).state?.instrumenterImplementation?.constructor.name ?? 'none');
process.stdout.write(`${JSON.stringify({ functions, hooks, appFiles, tracingInstrumenters })}\n`);
// Telemetry, when on, keeps exporters and timers alive; the listing is complete.
process.exit(0);
