import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startLocalHost, type FunctionInfo, type LocalHost } from './local-host';

/**
 * CLI stand-in for `func start`: `node dist/dev/host/main.js [--app-dir <dir>] [--port <n>] [--main <glob>]`.
 * `--main` loads other files than package.json `main` (e.g. `dist/functions/*.js`, the `tsc` output).
 * Reads host.json and package.json from the app directory (default: cwd) and local.settings.json `Values`
 * (real environment variables win), then serves the app until SIGINT/SIGTERM.
 */
async function main(argv: string[]): Promise<void> {
  const appDir = resolve(argValue(argv, '--app-dir') ?? process.cwd());
  const portArg = argValue(argv, '--port');
  loadLocalSettings(appDir);

  const main = argValue(argv, '--main');
  const host = await startLocalHost({ appDir, port: Number(portArg ?? process.env['PORT'] ?? 7071), ...(main ? { main } : {}) });
  printFunctions(host.functions);
  handleSignals(host);
}

function argValue(argv: string[], name: string): string | undefined {
  const index = argv.indexOf(name);
  if (index >= 0) {
    return argv[index + 1];
  }
  const inline = argv.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

/** Like Core Tools: local.settings.json `Values` become environment variables unless already set. */
function loadLocalSettings(appDir: string): void {
  const path = join(appDir, 'local.settings.json');
  if (!existsSync(path)) {
    return;
  }
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const values = typeof parsed === 'object' && parsed !== null && 'Values' in parsed ? parsed.Values : undefined;
  if (typeof values !== 'object' || values === null) {
    return;
  }
  for (const [key, value] of Object.entries(values)) {
    if (process.env[key] === undefined && value !== undefined && value !== null) {
      process.env[key] = String(value);
    }
  }
}

function printFunctions(functions: FunctionInfo[]): void {
  const lines = ['', 'Functions:', ''];
  for (const fn of functions) {
    if (fn.url) {
      const methods = fn.methods ? `[${fn.methods.join(',')}]` : '[GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS]';
      lines.push(`\t${fn.name}: ${methods} ${fn.url}`, '');
    } else {
      lines.push(`\t${fn.name}: ${fn.trigger}`, '');
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function handleSignals(host: LocalHost): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    process.stdout.write(`Received ${signal}, stopping the host...\n`);
    host.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`Error while stopping: ${err instanceof Error ? err.stack : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Started by spawnLocalHost (npm start, tests) with an IPC channel: when that parent dies, even by SIGKILL, the
  // channel closes and this host stops instead of living on as an orphan holding its port.
  if (process.send !== undefined) {
    process.on('disconnect', () => shutdown('parent exit'));
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`Host failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
