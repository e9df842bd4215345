import type { TokenCredential } from '@azure/identity';
import { isAggregateLogsUploadError, LogsIngestionClient } from '@azure/monitor-ingestion';
import { bearerTokenAuthenticationPolicyName, type PipelinePolicy } from '@azure/core-rest-pipeline';
import type { Logger } from '../logger';
import type { AuditEntry, AuditSink } from './audit-log';
import { auditRow, type AuditRow } from './audit-row';
import { logEvent } from '../telemetry/log-event';
import { redactSecrets } from '../telemetry/redact-secrets';
import { responderMetrics } from '../telemetry/responder-metrics';

/** The Logs Ingestion API's token audience, whatever the endpoint (a data collection endpoint, or the simulator). */
export const MONITOR_SCOPE = 'https://monitor.azure.com/.default';

export interface AuditIngestionOptions {
  /** The data collection endpoint (`AUDIT_INGESTION_ENDPOINT`). */
  endpoint: string;
  /** The data collection rule's immutable id (`AUDIT_DCR_IMMUTABLE_ID`). */
  ruleId: string;
  /** The rule's stream (`AUDIT_STREAM_NAME`). */
  streamName: string;
  credential: TokenCredential;
  log: Logger;
  /** Rows waiting at most; past it the oldest are dropped (and counted). Default 10,000. */
  maxQueued?: number;
  /** How long a row waits for others to share its upload. Default 250 ms. */
  batchDelayMs?: number;
  /** Rows per upload at most (the client splits them into 1 MB requests). Default 500. */
  maxBatch?: number;
  /** Uploads a row is part of before it is given up on. Default 5. */
  maxAttempts?: number;
  /** Time-out of one upload, the client's own retries included. Default 10 s. */
  timeoutMs?: number;
  /** Wait before the next upload after a failed one; default 1, 2, 4, … s up to 30 s. */
  backoffMs?: (failures: number) => number;
}

interface Queued {
  row: AuditRow;
  attempts: number;
}

/**
 * Sends audit rows to Log Analytics through the Logs Ingestion API (`@azure/monitor-ingestion`, managed identity),
 * best effort and never in the way: {@link send} only queues (it never throws, waits or fails the audited action),
 * rows written together go out in one upload, one upload is in flight at a time with a time-out, and a failed
 * upload is retried with backoff a bounded number of times. The queue is bounded too; a row given up on stays in
 * the audit table (the system of record) and is counted in `agent_responders.audit.ingestion.dropped`.
 */
export class AuditIngestion implements AuditSink {
  private readonly client: LogsIngestionClient;
  private readonly queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private failures = 0;
  private readonly opts: Required<Omit<AuditIngestionOptions, 'credential' | 'log'>> & Pick<AuditIngestionOptions, 'log'>;

  constructor(options: AuditIngestionOptions) {
    this.opts = {
      endpoint: options.endpoint,
      ruleId: options.ruleId,
      streamName: options.streamName,
      log: options.log,
      maxQueued: options.maxQueued ?? 10_000,
      batchDelayMs: options.batchDelayMs ?? 250,
      maxBatch: options.maxBatch ?? 500,
      maxAttempts: options.maxAttempts ?? 5,
      timeoutMs: options.timeoutMs ?? 10_000,
      backoffMs: options.backoffMs ?? ((n) => Math.min(30_000, 1_000 * 2 ** (n - 1))),
    };
    const loopback = new URL(options.endpoint).protocol === 'http:';
    this.client = new LogsIngestionClient(options.endpoint, options.credential, { retryOptions: { maxRetries: 2, retryDelayInMs: 250, maxRetryDelayInMs: 2_000 }, allowInsecureConnection: loopback });
    if (loopback) {
      // NOTE: the SDK's bearer policy refuses any http URL; config admits http only on a loopback address (the local
      // tenant simulator), where this policy stands in for it. Production endpoints are https and keep the SDK's.
      this.client.pipeline.removePolicy({ name: bearerTokenAuthenticationPolicyName });
      this.client.pipeline.addPolicy(loopbackBearerPolicy(options.credential), { phase: 'Sign' });
    }
  }

  /** Queues the row of an audit entry already written to the audit table. Never throws. */
  send(entry: AuditEntry & { at: string }): void {
    try {
      if (this.queue.length >= this.opts.maxQueued) {
        this.queue.shift();
        this.dropped(1, 'overflow');
      }
      this.queue.push({ row: auditRow(entry), attempts: 0 });
      this.schedule(this.opts.batchDelayMs);
    } catch {
      this.dropped(1, 'unmappable');
    }
  }

  /** Rows not yet accepted (queued or in flight). */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Sends what is queued now and waits for it (retries after failures are left to the timer). For shutdown and
   * tests; the app itself never waits on ingestion.
   */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
    if (this.queue.length > 0) {
      await this.upload();
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined || this.inFlight !== undefined || this.queue.length === 0) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.upload();
    }, delayMs);
    // A pending upload never keeps a process alive (tests, the local host's shutdown).
    this.timer.unref();
  }

  private upload(): Promise<void> {
    const batch = this.queue.splice(0, this.opts.maxBatch);
    const run = this.uploadBatch(batch).finally(() => {
      this.inFlight = undefined;
      this.schedule(this.failures > 0 ? this.opts.backoffMs(this.failures) : 0);
    });
    this.inFlight = run;
    return run;
  }

  private async uploadBatch(batch: Queued[]): Promise<void> {
    if (batch.length === 0) {
      return;
    }
    const byRow = new Map<unknown, Queued>(batch.map((q) => [q.row, q]));
    let failed: Queued[] = [];
    let cause: string | undefined;
    for (const q of batch) {
      q.attempts++;
    }
    try {
      await this.client.upload(this.opts.ruleId, this.opts.streamName, batch.map((q) => q.row), { abortSignal: AbortSignal.timeout(this.opts.timeoutMs), maxConcurrency: 1 });
    } catch (err) {
      cause = describeFailure(err);
      failed = isAggregateLogsUploadError(err) ? err.errors.flatMap((e) => e.failedLogs.map((row) => byRow.get(row)).filter((q): q is Queued => q !== undefined)) : batch;
    }
    const accepted = batch.length - failed.length;
    if (accepted > 0) {
      responderMetrics().auditIngested.add(accepted);
    }
    if (failed.length === 0) {
      this.failures = 0;
      return;
    }
    this.failures++;
    const retry = failed.filter((q) => q.attempts < this.opts.maxAttempts);
    const given = failed.length - retry.length;
    this.queue.unshift(...retry);
    if (given > 0) {
      this.dropped(given, 'failed');
    }
    logEvent(this.opts.log, 'audit.ingestion-failed', { rows: failed.length, retrying: retry.length, droppedRows: given, cause }, 'warn');
  }

  private dropped(rows: number, reason: string): void {
    responderMetrics().auditDropped.add(rows, { reason });
  }
}

/**
 * Status and code of a failed upload. A service answer's message is left out (it may echo what was sent); a local
 * failure (no connection, time-out, token) keeps its first words, secrets masked.
 */
function describeFailure(err: unknown): string {
  const first = isAggregateLogsUploadError(err) ? err.errors[0]?.cause : err;
  if (typeof first === 'object' && first !== null) {
    const e = first as { statusCode?: unknown; code?: unknown; name?: unknown; message?: unknown };
    const parts = [e.statusCode, e.code, e.name].filter((v) => typeof v === 'string' || typeof v === 'number');
    if (e.statusCode === undefined && typeof e.message === 'string') {
      parts.push(redactSecrets(e.message.slice(0, 160)));
    }
    return parts.join(' ');
  }
  return 'unknown';
}

/** A bearer token on every request, for the loopback simulator only (see the constructor). */
function loopbackBearerPolicy(credential: TokenCredential): PipelinePolicy {
  return {
    name: 'loopbackBearerPolicy',
    async sendRequest(request, next) {
      const token = await credential.getToken(MONITOR_SCOPE, { abortSignal: request.abortSignal });
      if (token) {
        request.headers.set('authorization', `Bearer ${token.token}`);
      }
      return next(request);
    },
  };
}
