import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The app's version from package.json (read once; works from `dist/` and from sources). */
export const version: string = (() => {
  for (const dir of [join(__dirname, '..'), join(__dirname, '..', '..')]) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'agent-responders' && pkg.version) {
        return pkg.version;
      }
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0';
})();
