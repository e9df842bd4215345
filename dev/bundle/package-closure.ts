import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Package directories reachable from `names` (and their `dependencies` and `optionalDependencies`), resolved the way
 * Node resolves them from `fromDir` upwards, stopping at `rootDir`. Missing optional packages are skipped.
 */
export function packageClosure(rootDir: string, names: readonly string[], fromDir: string = rootDir): string[] {
  const seen = new Set<string>();
  const visit = (from: string, name: string): void => {
    const dir = resolvePackageDir(rootDir, from, name);
    if (dir === undefined || seen.has(dir)) {
      return;
    }
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      visit(dir, dep);
    }
  };
  for (const name of names) {
    visit(fromDir, name);
  }
  return [...seen];
}

/** The directory of package `name` as `require` would find it from `fromDir`, or undefined. */
export function resolvePackageDir(rootDir: string, fromDir: string, name: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) {
      return candidate;
    }
    if (dir === rootDir || dir === dirname(dir)) {
      return undefined;
    }
  }
}
