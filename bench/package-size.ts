import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { deflateRawSync } from 'node:zlib';

export interface PackageSize {
  files: number;
  /** Sum of file sizes, MB. */
  megabytes: number;
  /** Sum of raw-deflated sizes, MB: close to the zip a deployment uploads. */
  deflatedMegabytes: number;
}

/** What `.funcignore` leaves out of every package: sources, source maps and caches. */
const EXCLUDED = [/\.ts$/, /\.js\.map$/, /(^|\/)\.cache(\/|$)/];

/**
 * The deployment package as `func azure functionapp publish` builds it from this repository: host.json,
 * package.json, the compiled functions and shared code, and the production dependency closure of
 * node_modules (dev dependencies are pruned before packaging).
 */
export function deploymentPackageFiles(repoRoot: string): string[] {
  const files = [join(repoRoot, 'host.json'), join(repoRoot, 'package.json')];
  for (const dir of ['functions', 'shared']) {
    files.push(...walk(join(repoRoot, 'dist', dir)));
  }
  for (const pkgDir of productionClosure(repoRoot)) {
    files.push(...walk(pkgDir, true));
  }
  return files.filter((f) => !EXCLUDED.some((re) => re.test(relative(repoRoot, f))));
}

/** Sizes of `files`, raw and deflated (each file on its own, as a zip stores them). */
export function measureFiles(files: readonly string[]): PackageSize {
  let bytes = 0;
  let deflated = 0;
  for (const file of files) {
    const content = readFileSync(file);
    bytes += content.length;
    deflated += content.length === 0 ? 0 : deflateRawSync(content).length;
  }
  const mb = (n: number): number => Math.round((n / 1024 / 1024) * 100) / 100;
  return { files: files.length, megabytes: mb(bytes), deflatedMegabytes: mb(deflated) };
}

/** Package directories reachable from package.json `dependencies`, resolved the way Node resolves them. */
function productionClosure(repoRoot: string): string[] {
  const seen = new Set<string>();
  const visit = (fromDir: string, name: string): void => {
    const dir = resolvePackage(repoRoot, fromDir, name);
    if (dir === undefined || seen.has(dir)) {
      return;
    }
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      visit(dir, dep);
    }
  };
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const dep of Object.keys(root.dependencies ?? {})) {
    visit(repoRoot, dep);
  }
  return [...seen];
}

function resolvePackage(repoRoot: string, fromDir: string, name: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) {
      return candidate;
    }
    if (dir === repoRoot || dir === dirname(dir)) {
      return undefined;
    }
  }
}

/** Files under `dir`; a package's own node_modules are separate packages, counted when something needs them. */
function walk(dir: string, skipNodeModules = false): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!(skipNodeModules && entry.name === 'node_modules')) {
        out.push(...walk(path, skipNodeModules));
      }
    } else if (entry.isFile() || (entry.isSymbolicLink() && statSync(path).isFile())) {
      out.push(path);
    }
  }
  return out;
}
