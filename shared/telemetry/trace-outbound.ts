import { context, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { UpstreamError } from '../errors';
import { redactUrl } from './redact-url';
import { TELEMETRY_SCOPE } from './responder-metrics';

/** One HTTP attempt to an external service, as a span names it. */
export interface OutboundCall {
  /** The service as the app names it: `Graph`, `ARM`, `Log Analytics`, `ServiceNow`, `Jira`, `webhook`, `Teams`. */
  service: string;
  method: string;
  /** The request URL; recorded only through {@link redactUrl}. */
  url: string;
  /** 1 for the first attempt; later attempts are resends. */
  attempt: number;
}

/** What an answered attempt reports: its status, and the service's request id when it sends one. */
export interface OutboundAnswer {
  status: number;
  requestId?: string | undefined;
}

/**
 * Runs one HTTP attempt inside a client span (OpenTelemetry HTTP client conventions: method, redacted `url.full`,
 * server address, status code, resend count, `error.type`), so every call to Graph, ARM, Log Analytics, a ticket
 * system or Teams is one dependency in Application Insights with its service (`peer.service`) and outcome. A failed
 * attempt is recorded from its {@link UpstreamError}: HTTP status, the service's error code and request id; never
 * its message, headers or body, which may carry what the service echoed back. Without an OpenTelemetry SDK
 * registered the span is a no-op.
 *
 * @example
 * const answer = await traceOutbound({ service: 'ARM', method: 'GET', url, attempt }, send, (r) => ({ status: r.status }));
 */
export async function traceOutbound<T>(call: OutboundCall, send: () => Promise<T>, answerOf: (result: T) => OutboundAnswer): Promise<T> {
  const attributes: Attributes = { 'http.request.method': call.method, 'url.full': redactUrl(call.url), 'peer.service': call.service };
  try {
    const url = new URL(call.url);
    attributes['server.address'] = url.hostname;
    attributes['server.port'] = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  } catch {
    // Not an absolute URL: the redacted text above is all there is.
  }
  if (call.attempt > 1) {
    attributes['http.request.resend_count'] = call.attempt - 1;
  }
  const span = trace.getTracer(TELEMETRY_SCOPE).startSpan(`${call.method} ${call.service}`, { kind: SpanKind.CLIENT, attributes }, context.active());
  try {
    const result = await send();
    const answer = answerOf(result);
    span.setAttribute('http.response.status_code', answer.status);
    if (answer.requestId) {
      span.setAttribute('service.request_id', answer.requestId);
    }
    return result;
  } catch (err) {
    const upstream = err instanceof UpstreamError ? err : undefined;
    if (upstream?.httpStatus !== undefined) {
      span.setAttribute('http.response.status_code', upstream.httpStatus);
    }
    if (upstream?.requestId) {
      span.setAttribute('service.request_id', upstream.requestId);
    }
    const type = upstream?.httpStatus !== undefined ? String(upstream.httpStatus) : (upstream?.upstreamCode ?? (err instanceof Error ? err.name : 'Error'));
    span.setAttribute('error.type', type);
    span.setStatus({ code: SpanStatusCode.ERROR, message: upstream?.upstreamCode ?? type });
    throw err;
  } finally {
    span.end();
  }
}
