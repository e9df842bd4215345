import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { packageClosure } from '../dev/bundle/package-closure';

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
 * The package the `tsc` build would deploy (what `func azure functionapp publish` builds from this repository
 * without the bundle): host.json, package.json, the compiled functions and shared code, and the production
 * dependency closure of node_modules (dev dependencies are pruned before packaging).
 */
export function tscPackageFiles(repoRoot: string): string[] {
  const files = [join(repoRoot, 'host.json'), join(repoRoot, 'package.json')];
  for (const dir of ['functions', 'shared']) {
    files.push(...walk(join(repoRoot, 'dist', dir)));
  }
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const pkgDir of packageClosure(repoRoot, Object.keys(root.dependencies ?? {}))) {
    files.push(...walk(pkgDir, true));
  }
  return files.filter((f) => !EXCLUDED.some((re) => re.test(relative(repoRoot, f))));
}

/** Every file of the bundled deployment package (`dist/deploy`, uploaded as it is: azure.yaml `dist`). */
export function bundlePackageFiles(deployDir: string): string[] {
  return walk(deployDir);
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
