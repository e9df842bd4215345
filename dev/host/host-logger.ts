import type { RpcLogLevel } from './core-types';

/**
 * Writes the host's log lines to stdout/stderr, one line per entry, so tests and people can grep by function name
 * or invocation id. Embedded newlines (stack traces) are escaped to keep that property.
 */
export class HostLogger {
  /** @param verbose also print debug/trace lines (host.json's default level, Information, hides them). */
  constructor(private readonly verbose = false) {}

  info(message: string): void {
    this.#write('information', message);
  }

  warn(message: string): void {
    this.#write('warning', message);
  }

  error(message: string): void {
    this.#write('error', message);
  }

  /** A log line from inside an invocation (`context.log` and friends, or the library's system messages). */
  invocation(functionName: string, invocationId: string, level: RpcLogLevel, message: string): void {
    this.#write(level, `[${functionName}] [${invocationId}] ${message}`);
  }

  system(level: RpcLogLevel, message: string): void {
    this.#write(level, message);
  }

  #write(level: RpcLogLevel, message: string): void {
    if (!this.verbose && (level === 'debug' || level === 'trace' || level === 'none')) {
      return;
    }
    const line = `[${new Date().toISOString()}] ${levelTag(level)}${message.replace(/\r?\n/g, '\\n')}\n`;
    if (level === 'error' || level === 'critical') {
      process.stderr.write(line);
    } else {
      process.stdout.write(line);
    }
  }
}

function levelTag(level: RpcLogLevel): string {
  switch (level) {
    case 'warning':
      return 'WARN ';
    case 'error':
    case 'critical':
      return 'ERROR ';
    case 'debug':
    case 'trace':
      return 'DEBUG ';
    default:
      return '';
  }
}
