import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Files under `baseDir` matching `pattern` (forward slashes; `*` and `?` within a segment, `**` for any depth),
 * sorted so load order is stable. Enough for package.json `main` values like `dist/functions/*.js`; no braces.
 */
export function globFiles(baseDir: string, pattern: string): string[] {
  const segments = pattern.replace(/^\.\//, '').split('/').filter((s) => s.length > 0 && s !== '.');
  const results = new Set<string>();
  walk(baseDir, segments, results);
  return [...results].sort();
}

function walk(dir: string, segments: string[], results: Set<string>): void {
  const [head, ...rest] = segments;
  if (head === undefined) {
    if (existsSync(dir) && statSync(dir).isFile()) {
      results.add(dir);
    }
    return;
  }
  if (head === '**') {
    walk(dir, rest, results);
    for (const entry of listDir(dir)) {
      if (entry.isDirectory() && entry.name !== 'node_modules') {
        walk(join(dir, entry.name), segments, results);
      }
    }
    return;
  }
  if (!/[*?[]/.test(head)) {
    walk(join(dir, head), rest, results);
    return;
  }
  const matcher = segmentToRegExp(head);
  for (const entry of listDir(dir)) {
    if (matcher.test(entry.name)) {
      walk(join(dir, entry.name), rest, results);
    }
  }
}

function listDir(dir: string): import('node:fs').Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function segmentToRegExp(segment: string): RegExp {
  let source = '';
  for (const ch of segment) {
    if (ch === '*') {
      source += '[^/]*';
    } else if (ch === '?') {
      source += '[^/]';
    } else {
      source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  // Like the worker's glob, `*` does not match dot files.
  return new RegExp(segment.startsWith('.') ? `^${source}$` : `^(?!\\.)${source}$`);
}
