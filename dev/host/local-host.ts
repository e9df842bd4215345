import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { HookData } from './core-types';
import { createDevEasyAuth } from './dev-easy-auth';
import { FunctionRunner, runHooks } from './function-runner';
import { parseHostConfig } from './host-config';
import { HostLogger } from './host-logger';
import { describeFunction, errorMessage, stringOption, toHostedFunction, type FunctionInfo, type HostedFunction } from './hosted-function';
import { createHttpHandler } from './http-host';
import { loadApp } from './load-app';
import { queueMessageToTypedData } from './queue-message-codec';
import { QueueListener, syntheticQueueTriggerMetadata } from './queue-listener';
import { StorageQueues } from './storage-queues';
import { TimerScheduler } from './timer-scheduler';

export type { FunctionInfo } from './hosted-function';

export interface LocalHost {
  url: string;
  port: number;
  functions: FunctionInfo[];
  /** Stops taking work, lets running invocations finish (up to 5 s), releases unfinished queue messages. */
  stop(): Promise<void>;
}

export interface LocalHostOptions {
  appDir: string;
  /** Default `PORT` or 7071; 0 picks a free port. */
  port?: number;
  /** Address to listen on; default 127.0.0.1, so nothing off this machine reaches the app (or its dev sign-in). */
  host?: string;
  /** Merged into process.env before the app loads, because the app reads its settings at load time. */
  env?: Record<string, string>;
  /** Defaults to `<appDir>/host.json`. */
  hostJson?: object;
  /** Files to load instead of package.json `main` (a glob relative to `appDir`). */
  main?: string;
}

const DRAIN_MS = 5_000;
/** Received queue messages stay hidden this long per lease while their invocation runs (renewed at half-time). */
const DEFAULT_QUEUE_LEASE_MS = 10 * 60_000;

/**
 * Starts a local stand-in for the Functions host (`func start`) serving the app in `appDir`: HTTP routes, queue and
 * timer triggers, and the admin API. One host per process: the app's modules and `@azure/functions` are shared.
 */
export async function startLocalHost(opts: LocalHostOptions): Promise<LocalHost> {
  Object.assign(process.env, opts.env ?? {});
  const env = process.env;
  const appDir = resolve(opts.appDir);
  const logger = new HostLogger(env['LOCAL_HOST_VERBOSE'] === 'true');
  const hostJson = opts.hostJson ?? readHostJson(appDir);
  const config = parseHostConfig(hostJson);

  const { api } = loadApp(appDir, opts.main);
  api.setLogSink((level, _category, message) => logger.system(level, message));
  if (!api.hasProgrammingModel()) {
    throw new Error(`No functions were registered by ${appDir}: does package.json "main" point at the built files?`);
  }
  const model = api.getProgrammingModel();
  // The worker asks for capabilities once the app is loaded; the library locks app.setup() here.
  const capabilities = (await model.getCapabilities?.({})) ?? {};
  if (capabilities['HttpUri']) {
    throw new Error('app.setup({ enableHttpStream: true }) is not supported by the local host');
  }

  const functions = [...api.functions.values()].map((r) => toHostedFunction(r, env));
  warnUnsupportedBindings(functions, logger);
  functions.filter((f) => f.disabled).forEach((f) => logger.info(`Function '${f.name}' is disabled (AzureWebJobs.${f.name}.Disabled)`));

  const appHookData: HookData = {};
  await runHooks(api, 'appStart', { hookData: {}, appHookData, functionAppDirectory: appDir });

  const queues = new StorageQueues(env);
  const runner = new FunctionRunner({ api, queues, logger, messageEncoding: config.queues.messageEncoding, appHookData });
  const timers = new TimerScheduler(functions, runner, logger, env['WEBSITE_TIME_ZONE'] ?? 'UTC');

  const invokeNow = async (fn: HostedFunction, input: string): Promise<unknown> => {
    if (fn.triggerType === 'timertrigger') {
      const now = new Date();
      return runner.run(fn, { data: timers.timerInput(fn, now, now), reason: 'This function was programmatically called via the host APIs.' });
    }
    if (fn.triggerType === 'queuetrigger') {
      return runner.run(fn, {
        data: queueMessageToTypedData(input),
        triggerMetadata: syntheticQueueTriggerMetadata(input),
        reason: 'This function was programmatically called via the host APIs.',
      });
    }
    return runner.run(fn, { data: { string: input }, reason: 'This function was programmatically called via the host APIs.' });
  };

  let infos: FunctionInfo[] = [];
  const server = createServer(
    createHttpHandler({
      functions,
      routePrefix: config.routePrefix,
      runner,
      logger,
      easyAuth: env['LOCAL_DEV_EASY_AUTH'] === 'true' ? createDevEasyAuth(env) : undefined,
      functionInfos: () => infos,
      invokeNow,
    }),
  );
  const port = await listen(server, opts.port ?? Number(env['PORT'] ?? 7071), opts.host ?? '127.0.0.1');
  // An IP literal: `localhost` may resolve to ::1 where only IPv4 is up.
  const url = `http://127.0.0.1:${port}`;
  infos = functions.map((fn) => describeFunction(fn, url, config.routePrefix));

  const listeners: QueueListener[] = [];
  for (const fn of functions.filter((f) => f.triggerType === 'queuetrigger' && !f.disabled)) {
    const queueName = stringOption(fn.trigger, 'queueName');
    if (!queueName) {
      throw new Error(`Function '${fn.name}' has no queueName`);
    }
    const connection = stringOption(fn.trigger, 'connection');
    const listener = new QueueListener({
      fn,
      queue: await queues.queue(connection, queueName),
      poisonQueue: await queues.queue(connection, `${queueName}-poison`),
      options: config.queues,
      runner,
      logger,
      leaseMs: Math.min(config.functionTimeoutMs ?? DEFAULT_QUEUE_LEASE_MS, DEFAULT_QUEUE_LEASE_MS),
    });
    listeners.push(listener);
  }
  // Like the WebJobs SDK's SharedQueueWatcher: a write by this host wakes the matching listener immediately.
  const unsubscribe = queues.onWrite((key) => listeners.filter((l) => l.key === key).forEach((l) => l.wake()));
  listeners.forEach((l) => l.start());
  if (env['LOCAL_HOST_DISABLE_TIMERS'] !== 'true') {
    timers.start(functions.filter((f) => !f.disabled));
  }
  logger.info(`Host started on ${url} with ${functions.length} function(s)`);

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    timers.stop();
    unsubscribe();
    const closed = new Promise<void>((done) => server.close(() => done()));
    server.closeIdleConnections();
    await Promise.all(listeners.map((l) => l.stopPolling()));
    if (!(await runner.drain(DRAIN_MS))) {
      logger.warn(`Stopping with ${runner.inFlightCount} invocation(s) still running`);
    }
    await Promise.all(listeners.map((l) => l.abandonInFlight()));
    try {
      await runHooks(api, 'appTerminate', { hookData: {}, appHookData });
    } catch (err) {
      logger.warn(`appTerminate hook failed: ${errorMessage(err)}`);
    }
    server.closeAllConnections();
    await closed;
  };

  return {
    url,
    port,
    functions: infos,
    stop: () => (stopping ??= stop()),
  };
}

function readHostJson(appDir: string): unknown {
  const path = join(appDir, 'host.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    // Loopback only: the development sign-in lets anyone pick any user, so it must not be reachable from the network.
    server.listen(port, host, () => {
      server.off('error', fail);
      done();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Bindings this host does not implement would silently do nothing; say so once at startup. */
function warnUnsupportedBindings(functions: HostedFunction[], logger: HostLogger): void {
  const supportedTriggers = new Set(['httptrigger', 'queuetrigger', 'timertrigger']);
  for (const fn of functions) {
    if (!supportedTriggers.has(fn.triggerType)) {
      logger.warn(`Function '${fn.name}': trigger '${fn.trigger.type}' is not run automatically by the local host (use POST /admin/functions/${fn.name})`);
    }
    for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
      const type = (binding.type ?? '').toLowerCase();
      if (binding.direction === 'out' && type !== 'http' && type !== 'queue') {
        logger.warn(`Function '${fn.name}': output binding '${name}' (${binding.type}) is ignored by the local host`);
      }
      if (binding.direction === 'in' && !type.endsWith('trigger')) {
        logger.warn(`Function '${fn.name}': input binding '${name}' (${binding.type}) is not supplied by the local host`);
      }
    }
  }
}
