import { CALL_BUDGET_MS, withTimeout } from './call-timeout';
import { defaultRetryPolicy, isUnsent, withRetry, type RetryHooks, type RetryPolicy } from './retry-policy';
import { networkToUpstreamError, responseToUpstreamError } from './to-upstream-error';
import { traceOutbound } from '../telemetry/trace-outbound';

export interface HttpJsonRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** Headers, or a function giving them per attempt (a bearer token fetched inside the attempt's time-out). */
  headers?: Record<string, string> | ((signal: AbortSignal) => Promise<Record<string, string>>);
  /** Serialised as JSON unless it is already a string. */
  body?: unknown;
  /** Per-attempt time-out; default the policy's `attemptTimeoutMs`. */
  timeoutMs?: number;
  /**
   * Whether sending the request twice has the effect of sending it once. Default: true for GET, PUT, PATCH and
   * DELETE, false for POST. A call that is not idempotent is retried only when the failure proves it was not
   * sent (429, no connection); after a time-out, a dropped connection or a 5xx its outcome is unknown and the
   * caller decides (look the effect up before trying again).
   */
  idempotent?: boolean;
}

export interface HttpJsonResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface HttpJsonOptions {
  retry?: RetryPolicy;
  retryHooks?: RetryHooks;
  /** Absolute deadline shared with other calls of the same operation (see `RetryOptions.deadline`). */
  deadline?: number;
}

/**
 * One JSON call to an external service (ARM, Log Analytics, ServiceNow, Jira, a webhook) with a time-out per
 * attempt and a budget per call, retries of transient failures (only of unsent ones when the call is not
 * idempotent) and errors translated to UpstreamError. Callers pass a `service` name for messages.
 */
export async function httpJson<T = unknown>(service: string, request: HttpJsonRequest, options: HttpJsonOptions = {}): Promise<HttpJsonResponse<T>> {
  const policy = options.retry ?? defaultRetryPolicy;
  const now = options.retryHooks?.now ?? Date.now;
  const idempotent = request.idempotent ?? request.method !== 'POST';
  const body = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  const answerOf = (r: HttpJsonResponse<T>) => ({ status: r.status, requestId: r.headers.get('x-ms-request-id') ?? undefined });
  return withRetry(
    (_attempt, at) =>
      traceOutbound({ service, method: request.method, url: request.url, attempt: at.attempt }, () => withTimeout(service, Math.min(request.timeoutMs ?? Infinity, at.deadline - now()), async (signal) => {
        let response: Response;
        let text: string;
        try {
          const headers = typeof request.headers === 'function' ? await request.headers(signal) : request.headers;
          response = await fetch(request.url, {
            method: request.method,
            headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
            body,
            signal,
          });
          text = await response.text();
        } catch (err) {
          throw networkToUpstreamError(service, err);
        }
        let parsed: unknown = undefined;
        if (text.length > 0) {
          try {
            parsed = JSON.parse(text) as unknown;
          } catch {
            parsed = text;
          }
        }
        if (!response.ok) {
          throw responseToUpstreamError(service, response.status, response.headers, parsed);
        }
        return { status: response.status, body: parsed as T, headers: response.headers };
      }), answerOf),
    policy,
    { ...options.retryHooks, deadline: options.deadline, retryIf: idempotent ? undefined : isUnsent },
  );
}

/**
 * The deadline of an operation made of several calls (a look-up, then a write): one call budget from now, on the
 * clock the calls themselves use, so the whole operation ends inside a lease.
 */
export function operationDeadline(options: HttpJsonOptions = {}): number {
  return (options.retryHooks?.now ?? Date.now)() + (options.retry?.budgetMs ?? CALL_BUDGET_MS);
}
