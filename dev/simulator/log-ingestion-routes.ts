import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { MONITOR_AUDIENCE, verifyBearer } from './managed-identity';
import type { SimRequest, SimResponse } from './sim-http';
import { json, newGuid, sleep } from './sim-http';

/**
 * The audit pipeline's data collection endpoint: the Logs Ingestion API as `infra/main.bicep` deploys it (one
 * rule, one stream, the columns of `AgentResponderAudit_CL`), so tests assert exactly which rows the app sent.
 *
 * Contract (https://learn.microsoft.com/azure/azure-monitor/logs/logs-ingestion-api-overview):
 * `POST {endpoint}/dataCollectionRules/{immutableId}/streams/{stream}?api-version=2023-01-01`, a bearer token for
 * `https://monitor.azure.com`, a JSON array of objects (optionally gzip-encoded), at most 1 MB per call; 204 when
 * accepted. Deliberate difference: the service silently drops columns the stream does not declare and answers 204
 * to rows that fail the rule's transform later; the simulator refuses both with 400, so a test that sends a wrong
 * row fails loudly.
 */
export const SIM_AUDIT_DCR = {
  immutableId: 'dcr-5e1a0000000040008000000000000ad1',
  stream: 'Custom-AgentResponderAudit',
  columns: { TimeGenerated: 'datetime', CaseId: 'string', Action: 'string', Scope: 'string', Actor: 'string', TargetId: 'string', Result: 'string', RequestId: 'string', Detail: 'string' },
} as const;

const INGEST_PATH = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)\/?$/;
/** The documented limit of one call's body. */
export const MAX_INGESTION_BYTES = 1024 * 1024;

/** `true` for the simulator's ingestion routes and its admin route. */
export function isLogIngestionPath(path: string): boolean {
  return path === '/_sim/ingested' || path.startsWith('/dataCollectionRules/');
}

export interface IngestedBatch {
  id: string;
  at: number;
  status: number;
  errors: string[];
  /** The rows of an accepted call. */
  rows: Record<string, unknown>[];
  /** Bytes on the wire (compressed when gzip was used). */
  bytes: number;
  gzip: boolean;
}

/** What the next calls meet: failures (status, optional Retry-After), or a wait before answering. */
export const ingestionBehaviourSchema = z.strictObject({
  failures: z.array(z.strictObject({ status: z.number().int().min(400).max(599), retryAfter: z.number().min(0).optional() })).optional(),
  hangMs: z.number().int().min(0).max(300_000).optional(),
  hangTimes: z.number().int().min(0).max(1_000).optional(),
});
export type IngestionBehaviour = z.infer<typeof ingestionBehaviourSchema>;

const error = (status: number, code: string, message: string, headers: Record<string, string> = {}): SimResponse => json(status, { error: { code, message } }, headers);

export class LogIngestion {
  readonly batches: IngestedBatch[] = [];
  private failures: { status: number; retryAfter?: number }[] = [];
  private hang = { ms: 0, times: 0 };

  /** Accepted rows, oldest first. */
  rows(): Record<string, unknown>[] {
    return this.batches.flatMap((b) => b.rows);
  }

  behave(b: IngestionBehaviour): void {
    const parsed = ingestionBehaviourSchema.parse(b);
    this.failures.push(...(parsed.failures ?? []));
    if (parsed.hangMs !== undefined) {
      this.hang = { ms: parsed.hangMs, times: parsed.hangTimes ?? 1 };
    }
  }

  clear(): void {
    this.batches.length = 0;
    this.failures = [];
    this.hang = { ms: 0, times: 0 };
  }

  async handle(req: SimRequest): Promise<SimResponse> {
    const m = INGEST_PATH.exec(req.path);
    if (!m) {
      return error(404, 'NotFound', `No route ${req.path}`);
    }
    if (req.method.toUpperCase() !== 'POST') {
      return error(405, 'MethodNotAllowed', 'Logs are uploaded with POST.');
    }
    const auth = verifyBearer(req.headers['authorization'], MONITOR_AUDIENCE);
    if (!auth.ok) {
      return error(401, 'InvalidToken', auth.message);
    }
    if (req.query.get('api-version') !== '2023-01-01') {
      return error(400, 'InvalidApiVersion', `api-version '${req.query.get('api-version') ?? ''}' is not supported; use 2023-01-01.`);
    }
    if (this.hang.times > 0) {
      this.hang.times--;
      await sleep(this.hang.ms);
    }
    const failure = this.failures.shift();
    if (failure) {
      this.batches.push({ id: newGuid(), at: Date.now(), status: failure.status, errors: ['simulated failure'], rows: [], bytes: req.rawBody.length, gzip: false });
      return error(failure.status, failure.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', 'Simulated failure.', failure.retryAfter !== undefined ? { 'Retry-After': String(failure.retryAfter) } : {});
    }
    const [, immutableId, stream] = m;
    if (decodeURIComponent(immutableId ?? '') !== SIM_AUDIT_DCR.immutableId) {
      return error(404, 'DataCollectionRuleNotFound', `Data collection rule ${immutableId ?? ''} was not found.`);
    }
    if (decodeURIComponent(stream ?? '') !== SIM_AUDIT_DCR.stream) {
      return error(400, 'InvalidStream', `Stream ${stream ?? ''} is not declared in the data collection rule.`);
    }
    const gzip = (req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip';
    const record = (status: number, errors: string[], rows: Record<string, unknown>[] = []): void => {
      this.batches.push({ id: newGuid(), at: Date.now(), status, errors, rows, bytes: req.rawBody.length, gzip });
    };
    let text: string;
    try {
      if (req.rawBody.length > MAX_INGESTION_BYTES) {
        throw new RangeError('too large');
      }
      const raw = gzip ? gunzipSync(req.rawBody, { maxOutputLength: MAX_INGESTION_BYTES + 1 }) : req.rawBody;
      if (raw.length > MAX_INGESTION_BYTES) {
        throw new RangeError('too large');
      }
      text = raw.toString('utf8');
    } catch (err) {
      const tooLarge = err instanceof RangeError;
      record(tooLarge ? 413 : 400, [tooLarge ? 'body over 1 MB' : 'body is not valid gzip']);
      return tooLarge ? error(413, 'ContentLengthLimitExceeded', 'The request body exceeds 1 MB.') : error(400, 'InvalidContentEncoding', 'The body is not valid gzip.');
    }
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      record(400, ['body is not JSON']);
      return error(400, 'InvalidJson', 'The body is not valid JSON.');
    }
    const errors = checkRows(body);
    if (errors.length > 0) {
      record(400, errors);
      return error(400, 'InvalidRows', errors.slice(0, 5).join('; '));
    }
    record(204, [], body as Record<string, unknown>[]);
    return { status: 204 };
  }
}

/** What the stream would not take: not an array of objects, an undeclared column, a wrongly typed value. */
export function checkRows(body: unknown): string[] {
  if (!Array.isArray(body) || body.length === 0) {
    return ['body must be a non-empty JSON array of objects'];
  }
  const columns: Record<string, string> = SIM_AUDIT_DCR.columns;
  const errors: string[] = [];
  body.forEach((row: unknown, i) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      errors.push(`[${i}] is not an object`);
      return;
    }
    for (const [key, value] of Object.entries(row)) {
      const type = columns[key];
      if (type === undefined) {
        errors.push(`[${i}].${key} is not a column of the stream`);
      } else if (type === 'datetime' ? typeof value !== 'string' || Number.isNaN(Date.parse(value)) : typeof value !== 'string') {
        errors.push(`[${i}].${key} must be a ${type}`);
      }
    }
    if (!('TimeGenerated' in row)) {
      errors.push(`[${i}].TimeGenerated is missing`);
    }
  });
  return errors;
}

/** `GET /_sim/ingested` lists the calls and their rows; `PATCH` sets failures or a hang; `DELETE` clears. */
export function handleIngestionAdmin(ingestion: LogIngestion, req: SimRequest): SimResponse {
  switch (req.method.toUpperCase()) {
    case 'GET':
      return json(200, { batches: ingestion.batches, rows: ingestion.rows() });
    case 'PATCH': {
      const parsed = ingestionBehaviourSchema.safeParse(req.body);
      if (!parsed.success) {
        return json(400, { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      }
      ingestion.behave(parsed.data);
      return { status: 204 };
    }
    case 'DELETE':
      ingestion.clear();
      return { status: 204 };
    default:
      return json(405, { error: 'GET, PATCH or DELETE' });
  }
}
