import { defaultRetryPolicy, withRetry, type RetryHooks, type RetryPolicy } from './retry-policy';
import { networkToUpstreamError, responseToUpstreamError } from './to-upstream-error';

export interface HttpJsonRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is already a string. */
  body?: unknown;
  timeoutMs?: number;
}

export interface HttpJsonResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface HttpJsonOptions {
  retry?: RetryPolicy;
  retryHooks?: RetryHooks;
}

/**
 * One JSON call to an external service (ARM, ServiceNow, Jira, a webhook) with a timeout, retries of
 * transient failures and errors translated to UpstreamError. Callers pass a `service` name for messages.
 */
export async function httpJson<T = unknown>(service: string, request: HttpJsonRequest, options: HttpJsonOptions = {}): Promise<HttpJsonResponse<T>> {
  return withRetry(
    async () => {
      let response: Response;
      try {
        const body = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
        response = await fetch(request.url, {
          method: request.method,
          headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers },
          body,
          signal: AbortSignal.timeout(request.timeoutMs ?? 30_000),
        });
      } catch (err) {
        throw networkToUpstreamError(service, err);
      }
      const text = await response.text();
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
    },
    options.retry ?? defaultRetryPolicy,
    options.retryHooks,
  );
}
