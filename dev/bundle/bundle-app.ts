import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join, relative, sep } from 'node:path';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { packageClosure } from './package-closure';

/** The deployment package, relative to the repository root: exactly what `azd deploy` uploads. */
export const DEPLOY_DIR = join('dist', 'deploy');
/** The bundle inside the deployment package (its package.json `main`). */
export const BUNDLE_MAIN = 'app/index.js';

/**
 * Packages left out of the bundle and `require`d at run time.
 * - `@azure/functions-core` is the worker's own module: it exists only inside the Functions worker (and the local
 *   host's stand-in), never on disk (Azure/azure-functions-nodejs-library#201).
 * - `@azure/functions` stays a real dependency of the app, as Microsoft documents for the v4 model ("dependencies,
 *   not devDependencies"), and must be `require`d by name: `@azure/functions-opentelemetry-instrumentation` hooks
 *   that require to link the worker's spans and logs to the host's invocation.
 * - `@azure/core-tracing`: the Azure Monitor distro's Azure SDK instrumentation hooks its require to give the storage
 *   and ingestion clients their spans; bundled, nothing would ever require it by name.
 * The last two ship in the package's node_modules, copied from this install (the versions the tests ran).
 */
export const EXTERNAL_PACKAGES = ['@azure/functions-core', '@azure/functions', '@azure/core-tracing'] as const;
const SHIPPED_EXTERNALS = EXTERNAL_PACKAGES.filter((p) => p !== '@azure/functions-core');

/**
 * The telemetry packages `shared/telemetry/start-telemetry.ts` requires only when Application Insights is configured.
 * They are half the bundle's code (the OpenTelemetry SDK, exporters, gRPC), so they go to a second file,
 * `app/telemetry.js`, which the main bundle requires in their place: a process with telemetry off never reads it.
 */
export const TELEMETRY_PACKAGES = ['@azure/monitor-opentelemetry', '@azure/functions-opentelemetry-instrumentation'] as const;
/** The telemetry bundle, beside the main one. */
export const TELEMETRY_BUNDLE = 'app/telemetry.js';

export interface BundleResult {
  /** Absolute path of the deployment package. */
  dir: string;
  buildMs: number;
  /** Repository-relative paths of every source file in the bundle. */
  inputs: string[];
}

interface BundleStamp {
  /** Hash of every bundled input, host.json and package.json, as {@link inputsDigest} computes it. */
  digest: string;
  entries: string[];
  inputs: string[];
}

/**
 * Builds the deployment package in `<rootDir>/dist/deploy` from `tsc`'s output (so run `npm run build` first): host.json,
 * a package.json whose `main` is the bundle, `app/index.js` (every `dist/functions/*.js` registration with `shared/` and
 * the dependencies, minified, Node 20 syntax so it runs on 20 and 22; `app/telemetry.js` beside it) with source maps
 * back to the TypeScript, and node_modules holding only the shipped {@link EXTERNAL_PACKAGES}. Bundling the compiled
 * CommonJS (not the TypeScript) keeps what runs identical to the `tsc` build: same emitted code, and every package
 * resolved through its `require` entry as Node resolves it. Built beside and swapped in whole, so a host never loads
 * half a package.
 */
export async function bundleApp(rootDir: string): Promise<BundleResult> {
  const functionsDir = join(rootDir, 'dist', 'functions');
  const entries = functionEntries(functionsDir);
  if (entries.length === 0) {
    throw new Error(`no compiled functions in ${functionsDir}: run "npm run build" first`);
  }
  mkdirSync(join(rootDir, 'dist'), { recursive: true });
  const staging = mkdtempSync(join(rootDir, 'dist', '.deploy-'));
  try {
    const t0 = performance.now();
    const common: BuildOptions = {
      absWorkingDir: rootDir,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      // Class and function names survive minification: errors and logs name them.
      keepNames: true,
      // Positions only (no sources inlined): enough for `--enable-source-maps` stack traces, a fraction of the size.
      sourcemap: 'linked',
      sourcesContent: false,
      legalComments: 'eof',
      external: [...EXTERNAL_PACKAGES],
      plugins: [productionPackagesOnly(rootDir)],
      metafile: true,
      logLevel: 'silent',
    };
    const [main, telemetry] = await Promise.all([
      build({
        ...common,
        stdin: { contents: entries.map((f) => `require('./${f}');`).join('\n'), resolveDir: functionsDir, loader: 'js' },
        plugins: [requireTelemetryBundle, productionPackagesOnly(rootDir)],
        outfile: join(staging, BUNDLE_MAIN),
      }),
      build({
        ...common,
        stdin: { contents: `module.exports = { ${TELEMETRY_PACKAGES.map((p) => `...require('${p}')`).join(', ')} };`, resolveDir: rootDir, loader: 'js' },
        outfile: join(staging, TELEMETRY_BUNDLE),
      }),
    ]);
    const warnings = [...main.warnings, ...telemetry.warnings];
    if (warnings.length > 0) {
      throw new Error(`esbuild warned: ${warnings.map((w) => `${w.text} (${w.location?.file ?? '?'}:${w.location?.line ?? '?'})`).join('; ')}`);
    }
    const buildMs = Math.round(performance.now() - t0);
    const inputs = bundledInputs(main.metafile, telemetry.metafile);
    writePackageFiles(rootDir, staging);
    copyShippedExternals(rootDir, staging);

    const dir = join(rootDir, DEPLOY_DIR);
    swapIn(staging, dir);
    const stamp: BundleStamp = { digest: inputsDigest(rootDir, inputs), entries, inputs };
    writeFileSync(stampPath(rootDir), JSON.stringify(stamp));
    return { dir, buildMs, inputs };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Whether `dist/deploy` was built from the compiled app as it is now: same `dist/functions/*.js` files, and the same
 * content in every bundled input, host.json and package.json (content, not times: `tsc` rewrites every file). Lets
 * the test projects' setups share one build.
 */
export function bundleIsFresh(rootDir: string): boolean {
  let stamp: BundleStamp;
  try {
    stamp = JSON.parse(readFileSync(stampPath(rootDir), 'utf8')) as BundleStamp;
  } catch {
    return false;
  }
  if (!existsSync(join(rootDir, DEPLOY_DIR, BUNDLE_MAIN)) || functionEntries(join(rootDir, 'dist', 'functions')).join('\n') !== stamp.entries.join('\n')) {
    return false;
  }
  try {
    return inputsDigest(rootDir, stamp.inputs) === stamp.digest;
  } catch {
    return false;
  }
}

/** Our compiled files by content; installed packages (thousands of files, changed only by npm) by size and time. */
function inputsDigest(rootDir: string, inputs: readonly string[]): string {
  const hash = createHash('sha256');
  for (const f of [...inputs, 'host.json', 'package.json']) {
    const path = join(rootDir, f);
    if (f.includes('node_modules/')) {
      const s = statSync(path);
      hash.update(`${f}\0${s.size}\0${s.mtimeMs}\0`);
    } else {
      hash.update(`${f}\0`).update(readFileSync(path)).update('\0');
    }
  }
  return hash.digest('hex');
}

/** Builds the deployment package unless it is already fresh; returns whether it built. */
export async function ensureBundle(rootDir: string): Promise<boolean> {
  if (bundleIsFresh(rootDir)) {
    return false;
  }
  await bundleApp(rootDir);
  return true;
}

function functionEntries(functionsDir: string): string[] {
  try {
    return readdirSync(functionsDir)
      .filter((f) => f.endsWith('.js'))
      .sort();
  } catch {
    return [];
  }
}

function stampPath(rootDir: string): string {
  return join(rootDir, 'dist', 'deploy-inputs.json');
}

/** The repository files (sources and dependency files) esbuild read, forward slashes. */
function bundledInputs(...metafiles: (Metafile | undefined)[]): string[] {
  const inputs = new Set(metafiles.flatMap((m) => Object.keys(m?.inputs ?? {})));
  return [...inputs]
    .filter((f) => !f.startsWith('<'))
    .map((f) => f.split(sep).join('/'))
    .sort();
}

/**
 * Bundles only packages a production install has (the closure of package.json `dependencies`). An optional require
 * of anything else (e.g. `debug` trying `supports-color`, here only because a dev tool installed it) stays a
 * `require` that fails at run time and is caught, exactly as in a production install.
 */
function productionPackagesOnly(rootDir: string): Plugin {
  const root = JSON.parse(readFileSync(join(rootDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const production = new Set(packageClosure(rootDir, Object.keys(root.dependencies ?? {})));
  const packageDirOf = (file: string): string | undefined => /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file)?.[1];
  return {
    name: 'production-packages-only',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'resolving' || args.path.startsWith('node:')) {
          return undefined;
        }
        const resolved = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'resolving' });
        const dir = resolved.external || resolved.errors.length > 0 ? undefined : packageDirOf(resolved.path);
        return dir !== undefined && !production.has(dir) ? { path: args.path, external: true } : undefined;
      });
    },
  };
}

/** In the main bundle, `require('<telemetry package>')` becomes `require('./telemetry.js')` (see TELEMETRY_PACKAGES). */
const requireTelemetryBundle: Plugin = {
  name: 'require-telemetry-bundle',
  setup(b) {
    const names = new RegExp(`^(${TELEMETRY_PACKAGES.map((p) => p.replace(/[/.-]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter: names }, () => ({ path: `./${basename(TELEMETRY_BUNDLE)}`, external: true }));
  },
};

/**
 * host.json as it is, and a package.json for the package: `main` is the bundle; `dependencies` name exactly the
 * shipped externals at their installed versions (nothing is installed at deploy time: azure.yaml sets
 * `remoteBuild: false`).
 */
function writePackageFiles(rootDir: string, staging: string): void {
  writeFileSync(join(staging, 'host.json'), readFileSync(join(rootDir, 'host.json')));
  const root = JSON.parse(readFileSync(join(rootDir, 'package.json'), 'utf8')) as Record<string, unknown>;
  const dependencies = Object.fromEntries(
    SHIPPED_EXTERNALS.map((name) => {
      const pkg = JSON.parse(readFileSync(join(rootDir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
      return [name, pkg.version];
    }),
  );
  const pkg = { name: root['name'], version: root['version'], private: true, description: root['description'], main: BUNDLE_MAIN, engines: root['engines'], dependencies };
  writeFileSync(join(staging, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
}

/** What a shipped package needs at run time: its code and licence, not its types, sources, maps or docs. */
const NOT_SHIPPED = /(\.d\.[cm]?ts|\.[cm]?ts|\.map|\.md)$/;

/** Copies the externals' dependency closure into `<staging>/node_modules`, in the same layout as this install. */
function copyShippedExternals(rootDir: string, staging: string): void {
  const rootModules = join(rootDir, 'node_modules');
  for (const pkgDir of packageClosure(rootDir, SHIPPED_EXTERNALS)) {
    const nested = join(pkgDir, 'node_modules');
    cpSync(pkgDir, join(staging, 'node_modules', relative(rootModules, pkgDir)), {
      recursive: true,
      // A package's own node_modules holds separate packages, copied when the closure reaches them.
      filter: (src) => src !== nested && !src.startsWith(nested + sep) && (!NOT_SHIPPED.test(src) || /^licen[cs]e/i.test(basename(src))),
    });
  }
}

/**
 * Replaces `dir` with `staging` by two renames (the old copy is removed afterwards). Two builds of the same sources
 * may race (test projects set up side by side): whichever lands second finds `dir` taken and leaves the other's.
 */
function swapIn(staging: string, dir: string): void {
  const old = `${staging}-old`;
  try {
    renameSync(dir, old);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err;
    }
  }
  try {
    renameSync(staging, dir);
  } catch (err) {
    if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) {
      throw err;
    }
  }
  rmSync(old, { recursive: true, force: true });
}
