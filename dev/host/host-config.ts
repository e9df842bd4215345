/** The parts of host.json this host honours, with the Functions runtime's defaults. */
export interface HostConfig {
  routePrefix: string;
  functionTimeoutMs: number | undefined;
  queues: QueueOptions;
}

export interface QueueOptions {
  maxPollingIntervalMs: number;
  visibilityTimeoutMs: number;
  batchSize: number;
  newBatchThreshold: number;
  maxDequeueCount: number;
  messageEncoding: 'base64' | 'none';
}

/** Parses a .NET TimeSpan (`hh:mm:ss`, `d.hh:mm:ss`, `hh:mm:ss.fff`) into milliseconds. */
export function parseTimeSpan(value: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/.exec(value.trim());
  if (!match) {
    throw new Error(`"${value}" is not a TimeSpan (expected hh:mm:ss)`);
  }
  const [, days, hours, minutes, seconds, fraction] = match;
  const fractionMs = fraction ? Number(`0.${fraction}`) * 1000 : 0;
  return (
    ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000 + fractionMs
  );
}

export function parseHostConfig(hostJson: unknown): HostConfig {
  const root = asRecord(hostJson);
  const extensions = asRecord(root['extensions']);
  const http = asRecord(extensions['http']);
  const queues = asRecord(extensions['queues']);

  const batchSize = numberOr(queues['batchSize'], 16);
  const timeout = root['functionTimeout'];
  return {
    routePrefix: typeof http['routePrefix'] === 'string' ? http['routePrefix'].replace(/^\/+|\/+$/g, '') : 'api',
    // "-1" means unbounded in the runtime.
    functionTimeoutMs: typeof timeout === 'string' && timeout !== '-1' ? parseTimeSpan(timeout) : undefined,
    queues: {
      maxPollingIntervalMs: timeSpanOr(queues['maxPollingInterval'], 60_000),
      visibilityTimeoutMs: timeSpanOr(queues['visibilityTimeout'], 0),
      batchSize: Math.min(Math.max(batchSize, 1), 32),
      newBatchThreshold: numberOr(queues['newBatchThreshold'], Math.floor(batchSize / 2)),
      maxDequeueCount: numberOr(queues['maxDequeueCount'], 5),
      messageEncoding: queues['messageEncoding'] === 'none' ? 'none' : 'base64',
    },
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function timeSpanOr(value: unknown, fallback: number): number {
  return typeof value === 'string' ? parseTimeSpan(value) : fallback;
}
