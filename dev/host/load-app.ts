import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { installCoreApiStandIn, type CoreApiStandIn } from './core-api-stand-in';
import { globFiles } from './glob-files';

export interface LoadedApp {
  api: CoreApiStandIn;
  files: string[];
}

/**
 * Loads the app the way the Node.js worker does: install the core API, then require every file that package.json
 * `main` matches (or `mainOverride`, a glob relative to `appDir`, e.g. `dist/functions/*.js` for the `tsc` output
 * instead of the bundle). Registrations land in `api.functions`.
 */
export function loadApp(appDir: string, mainOverride?: string): LoadedApp {
  const dir = resolve(appDir);
  const api = installCoreApiStandIn();
  api.resetRegistrations();

  const main = mainOverride ?? readMain(dir);
  const files = globFiles(dir, main);
  if (files.length === 0) {
    throw new Error(`package.json "main" (${main}) matched no files in ${dir}. Did you build the app?`);
  }

  // A second load in the same process (tests) must run the registration code again, not reuse cached modules.
  const appPrefix = dir + sep;
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(appPrefix) && !key.slice(appPrefix.length).split(sep).includes('node_modules')) {
      delete require.cache[key];
    }
  }

  for (const file of files) {
    try {
      // CommonJS require on purpose: the worker loads the app the same way, with the same module cache.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(file);
    } catch (err) {
      throw new Error(`Worker was unable to load entry point "${file}": ${err instanceof Error ? err.stack : String(err)}`, {
        cause: err,
      });
    }
  }
  return { api, files };
}

function readMain(dir: string): string {
  const packageJsonPath = join(dir, 'package.json');
  if (!existsSync(packageJsonPath)) {
    throw new Error(`No package.json in ${dir}`);
  }
  const pkg: unknown = JSON.parse(readFileSync(packageJsonPath, 'utf8'));
  const main = typeof pkg === 'object' && pkg !== null && 'main' in pkg ? pkg.main : undefined;
  // The worker falls back to index.js like Node does.
  return typeof main === 'string' && main.length > 0 ? main : 'index.js';
}
