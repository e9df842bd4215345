import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_MAIN, DEPLOY_DIR, EXTERNAL_PACKAGES, TELEMETRY_BUNDLE } from '../../dev/bundle/bundle-app';
import { packageClosure } from '../../dev/bundle/package-closure';

// The deployment package the global setup bundled (npm run bundle builds the same), checked offline: no storage,
// no simulator, no network. What it must prove: the bundle registers exactly what the tsc build registers, holds no
// development code, ships every package it requires, and keeps telemetry working.

const ROOT = resolve(__dirname, '..', '..');
const PKG = join(ROOT, DEPLOY_DIR);
const LISTER = join(ROOT, 'dist', 'dev', 'bundle', 'list-functions.js');

interface Listing {
  functions: { name: string; bindings: Record<string, Record<string, unknown>>; retryOptions: unknown }[];
  hooks: Record<string, number>;
  appFiles: string[];
  tracingInstrumenters: string[];
}

/** Loads an app in a fresh process as the worker does and returns what it registered. */
function list(appDir: string, main?: string, env: Record<string, string> = {}): Listing {
  const child = spawnSync(process.execPath, [LISTER, appDir, ...(main ? [main] : [])], {
    encoding: 'utf8',
    env: { ...process.env, AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...env },
    timeout: 60_000,
  });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as Listing;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

/** Every `require("…")` the minified bundle makes. */
function requiresOf(file: string): string[] {
  return [...new Set([...readFileSync(file, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1] as string))].sort();
}

/** Package directories (repository-relative) a production install has: the closure of package.json `dependencies`. */
function productionPackageDirs(): string[] {
  const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  return packageClosure(ROOT, Object.keys(rootPkg.dependencies)).map((d) => d.slice(ROOT.length + 1));
}

const TELEMETRY_ON = {
  // A connection string whose ingestion endpoint refuses connections: the distro starts, nothing leaves the machine.
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/',
};

describe('the deployment package (dist/deploy)', () => {
  it('registers every function of the tsc build with the same name, trigger, route, methods, auth level and bindings', () => {
    const tsc = list(ROOT, 'dist/functions/*.js');
    const bundle = list(PKG);
    expect(tsc.functions.length).toBeGreaterThanOrEqual(readdirSync(join(ROOT, 'functions')).filter((f) => f.endsWith('.ts')).length - 1);
    expect(bundle.functions).toEqual(tsc.functions);
    expect(bundle.hooks).toEqual(tsc.hooks);
    // The worker loads one file: the bundle, not the tsc output beside it.
    expect(bundle.appFiles).toEqual([BUNDLE_MAIN]);
  });

  it('with telemetry on, loads the telemetry bundle and instruments the Functions worker and the Azure SDK as the tsc build does', () => {
    const tsc = list(ROOT, 'dist/functions/*.js', TELEMETRY_ON);
    const bundle = list(PKG, undefined, TELEMETRY_ON);
    expect(bundle.functions).toEqual(tsc.functions);
    // @azure/functions-opentelemetry-instrumentation hooks the require of @azure/functions: its invocation and log
    // hooks are there only because @azure/functions stayed a real package.
    expect(bundle.hooks).toEqual(tsc.hooks);
    expect(bundle.hooks['log']).toBeGreaterThan(list(PKG).hooks['log'] ?? 0);
    // The distro's Azure SDK instrumentation hooks the require of @azure/core-tracing: bundled, the storage and
    // ingestion clients would lose their spans without a word.
    expect(bundle.tracingInstrumenters).toEqual(['OpenTelemetryInstrumenter']);
    expect(bundle.tracingInstrumenters).toEqual(tsc.tracingInstrumenters);
    expect(bundle.appFiles).toEqual([BUNDLE_MAIN, TELEMETRY_BUNDLE]);
  });

  it('with telemetry off, never reads the telemetry bundle', () => {
    expect(list(PKG).appFiles).not.toContain(TELEMETRY_BUNDLE);
  });

  it('holds only the functions, shared code and production packages: nothing from dev/, test/ or bench/', () => {
    const production = new Set(productionPackageDirs());
    for (const bundle of [BUNDLE_MAIN, TELEMETRY_BUNDLE]) {
      const map = JSON.parse(readFileSync(join(PKG, `${bundle}.map`), 'utf8')) as { sources: string[] };
      // `<stdin>` is the generated entry (one require per compiled function file); `webpack:…` sources come from a
      // package's own source map (a package bundled by its authors).
      const sources = map.sources.filter((s) => s !== '<stdin>' && !/^[a-z]+:/.test(s)).map((s) => resolve(PKG, 'app', s).slice(ROOT.length + 1));
      expect(sources.length).toBeGreaterThan(10);
      const ours = sources.filter((s) => !s.startsWith('node_modules/'));
      expect(ours.filter((s) => !/^(functions|shared)\/[\w/.-]+\.ts$/.test(s))).toEqual([]);
      // Only the production dependencies' closure (what `npm ci --omit=dev` installs): no test tooling, Azurite or
      // esbuild, even where they sit in the same node_modules.
      const packages = new Set(sources.map((f) => /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((d) => d !== undefined));
      // (A package's own map may name sources outside any package directory; only real packages count.)
      expect([...packages].filter((d) => existsSync(join(ROOT, d, 'package.json')) && !production.has(d))).toEqual([]);
    }
    // Nor the development sign-in, by any of its names.
    expect(readFileSync(join(PKG, BUNDLE_MAIN), 'utf8')).not.toMatch(/_sim\/|dev-easy-auth|simulator|LOCAL_DEV_|\/\.auth\/login\/dev/i);
  });

  it('ships host.json, a package.json whose main is the bundle and whose dependencies are exactly the shipped packages', () => {
    const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')) as { main: string; dependencies: Record<string, string>; name: string };
    const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; name: string; dependencies: Record<string, string> };
    expect(pkg.main).toBe(BUNDLE_MAIN);
    // func start and npm start in the repository load the same file.
    expect(rootPkg.main).toBe(`${DEPLOY_DIR}/${BUNDLE_MAIN}`.split('\\').join('/'));
    expect(pkg.name).toBe(rootPkg.name);
    expect(Object.keys(pkg.dependencies).sort()).toEqual(EXTERNAL_PACKAGES.filter((p) => p !== '@azure/functions-core').sort());
    // @azure/functions stays a dependency (Microsoft's v4 guidance), at the version the tests ran.
    const installed = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@azure', 'functions', 'package.json'), 'utf8')) as { version: string };
    expect(pkg.dependencies['@azure/functions']).toBe(installed.version);
    expect(rootPkg.dependencies['@azure/functions']).toBeDefined();
    expect(readFileSync(join(PKG, 'host.json'), 'utf8')).toBe(readFileSync(join(ROOT, 'host.json'), 'utf8'));

    const files = filesUnder(PKG);
    expect(files.filter((f) => !f.startsWith('node_modules/')).sort()).toEqual(
      ['app/index.js', 'app/index.js.map', 'app/telemetry.js', 'app/telemetry.js.map', 'host.json', 'package.json'].sort(),
    );
    expect(files.filter((f) => /\.ts$|local\.settings|\.env$/.test(f))).toEqual([]);
  });

  it('is what azd uploads, as it is: built before packaging, no remote build', () => {
    const yaml = readFileSync(join(ROOT, 'azure.yaml'), 'utf8');
    expect(yaml).toMatch(new RegExp(`^\\s+dist: ${DEPLOY_DIR.split('\\').join('/')}$`, 'm'));
    expect(yaml).toMatch(/^\s+remoteBuild: false$/m);
    expect(yaml).toMatch(/prepackage:\s*\n\s+posix:\s*\n\s+shell: sh\s*\n\s+run: npm run bundle\s*\n/);
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['bundle']).toMatch(/^npm run build && node dist\/dev\/bundle\/main\.js$/);
  });

  it('resolves every package the bundles require inside the package itself, never from the repository', () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const required = [BUNDLE_MAIN, TELEMETRY_BUNDLE].flatMap((b) => requiresOf(join(PKG, b))).filter((r) => !builtins.has(r));
    const packages = [...new Set(required.filter((r) => !r.startsWith('.')))].sort();
    // The worker provides @azure/functions-core; the others are shipped. Any other package left as a require is one a
    // production install does not have either (an optional require its caller guards, like debug's supports-color).
    expect(packages).toEqual(expect.arrayContaining([...EXTERNAL_PACKAGES]));
    const productionNames = new Set(productionPackageDirs().map((d) => d.replace(/^.*node_modules\//, '')));
    expect(packages.filter((p) => !(EXTERNAL_PACKAGES as readonly string[]).includes(p) && productionNames.has(p))).toEqual([]);
    for (const rel of required.filter((r) => r.startsWith('.'))) {
      expect(existsSync(join(PKG, 'app', rel)), rel).toBe(true);
    }
    const shipped = EXTERNAL_PACKAGES.filter((p) => p !== '@azure/functions-core');
    // The closure resolved within the package (resolution stops at its root) is as large as in the repository.
    const inPackage = packageClosure(PKG, shipped, join(PKG, 'app')).map((d) => d.slice(PKG.length + 1));
    const inRepo = packageClosure(ROOT, shipped).map((d) => d.slice(ROOT.length + 1));
    expect(inPackage.sort()).toEqual(inRepo.sort());
  });
});
