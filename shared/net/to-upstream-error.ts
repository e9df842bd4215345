import { UpstreamError, ensureError } from '../errors';
import { isTransientStatus, parseRetryAfter } from './retry-policy';

/**
 * Translates a non-2xx HTTP response of an external service into an {@link UpstreamError}, keeping the
 * service's error code, message and request id (Graph: `error.code`, `error.message`, `request-id` header;
 * ARM: `error.code`; ServiceNow: `error.message`; Jira: `errorMessages`).
 */
export function responseToUpstreamError(service: string, status: number, headers: Headers, body: unknown): UpstreamError {
  const { code, message } = readErrorBody(body);
  const requestId = headers.get('request-id') ?? headers.get('x-ms-request-id') ?? headers.get('x-ms-correlation-request-id') ?? undefined;
  return new UpstreamError({
    service,
    httpStatus: status,
    upstreamCode: code,
    requestId,
    transient: isTransientStatus(status),
    retryAfterMs: parseRetryAfter(headers.get('retry-after')),
    message: `${service} answered ${status}${code ? ` ${code}` : ''}${message ? `: ${truncate(message, 300)}` : ''}`,
  });
}

/**
 * Failures that happen before a request leaves this machine (no connection was made), so the service cannot
 * have acted on it: refused, name not resolved, connect time-out.
 */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Translates a thrown network failure into a transient {@link UpstreamError}: `ConnectFailed` when no connection
 * was made (the request certainly had no effect), `NetworkError` otherwise (reset or closed mid-call: the service
 * may have acted before the answer was lost).
 */
export function networkToUpstreamError(service: string, err: unknown): UpstreamError {
  if (err instanceof UpstreamError) {
    return err;
  }
  const error = ensureError(err);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  const code = errorCode(error.cause) ?? errorCode(error);
  return new UpstreamError({
    service,
    transient: true,
    upstreamCode: code !== undefined && CONNECT_FAILURES.has(code) ? 'ConnectFailed' : 'NetworkError',
    message: `${service} unreachable: ${truncate(error.message + cause, 300)}`,
    cause: error,
  });
}

function errorCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function readErrorBody(body: unknown): { code: string | undefined; message: string | undefined } {
  if (typeof body !== 'object' || body === null) {
    return { code: undefined, message: typeof body === 'string' && body.length > 0 ? body : undefined };
  }
  const record = body as Record<string, unknown>;
  const inner = record['error'];
  if (typeof inner === 'object' && inner !== null) {
    const e = inner as Record<string, unknown>;
    return { code: stringOrUndefined(e['code']), message: stringOrUndefined(e['message']) ?? stringOrUndefined(e['detail']) };
  }
  if (Array.isArray(record['errorMessages'])) {
    const messages = (record['errorMessages'] as unknown[]).filter((m): m is string => typeof m === 'string');
    const fieldErrors = typeof record['errors'] === 'object' && record['errors'] !== null ? JSON.stringify(record['errors']) : '';
    return { code: undefined, message: [...messages, fieldErrors].filter(Boolean).join('; ') || undefined };
  }
  return { code: stringOrUndefined(record['code']), message: stringOrUndefined(record['message']) };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
