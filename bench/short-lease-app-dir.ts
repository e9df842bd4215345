import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AppDirCopy {
  dir: string;
  remove(): void;
}

/**
 * The app as deployed, but with `functionTimeout` lowered, which is what bounds the queue message lease of the
 * local host (as in the Functions runtime, the lease is min(functionTimeout, 10 min)). After a worker crash its
 * in-flight messages stay invisible for the whole lease: 10 minutes with this repository's host.json, longer
 * than the crash benchmark may take. `dist/` and `node_modules/` are links to this build.
 */
export function shortLeaseAppDir(repoRoot: string, functionTimeout: string): AppDirCopy {
  const dir = mkdtempSync(join(tmpdir(), 'bench-app-'));
  const hostJson = JSON.parse(readFileSync(join(repoRoot, 'host.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'host.json'), JSON.stringify({ ...hostJson, functionTimeout }, null, 2));
  copyFileSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(repoRoot, 'dist'), join(dir, 'dist'), 'dir');
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
