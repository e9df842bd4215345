import { performance } from 'node:perf_hooks';
import { loadApp } from '../dev/host/load-app';

/**
 * Child process of the cold-start benchmark: loads the app in `argv[2]` the way the Node.js worker does (the
 * core API stand-in, then every file package.json `main` matches, or the glob in `argv[3]`) and prints, as JSON, how long Node took to
 * reach this script and how long the app's modules took to load and register their functions.
 */
const reachedScriptMs = performance.now();
const appDir = process.argv[2];
if (appDir === undefined) {
  throw new Error('usage: node load-app-once.js <appDir> [main glob]');
}
const before = performance.now();
const { api } = loadApp(appDir, process.argv[3]);
const loadMs = performance.now() - before;
process.stdout.write(`${JSON.stringify({ reachedScriptMs, loadMs, functions: api.functions.size, heapMb: process.memoryUsage().rss / 1024 / 1024 })}\n`);
