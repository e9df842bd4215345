import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { traceOutbound } from '../../../shared/telemetry/trace-outbound';
import { UpstreamError } from '../../../shared/errors';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  trace.disable();
  await provider.shutdown();
});
beforeEach(() => exporter.reset());

describe('traceOutbound', () => {
  it('records an answered call as one client span with its service, status, request id and a redacted URL', async () => {
    const url = 'https://prod.logic.azure.com/workflows/1/triggers/manual/paths/invoke?api-version=1&sig=SECRETSIG';
    await traceOutbound({ service: 'Teams', method: 'POST', url, attempt: 1 }, () => Promise.resolve({ status: 202 }), (r) => ({ status: r.status, requestId: 'req-1' }));
    const [span, ...more] = exporter.getFinishedSpans();
    expect(more).toEqual([]);
    expect(span?.name).toBe('POST Teams');
    expect(span?.attributes).toMatchObject({ 'peer.service': 'Teams', 'http.request.method': 'POST', 'http.response.status_code': 202, 'server.address': 'prod.logic.azure.com', 'server.port': 443, 'service.request_id': 'req-1' });
    expect(JSON.stringify(span?.attributes)).not.toContain('SECRETSIG');
  });

  it('records a refused attempt with its status, error type and the service\'s request id, never its message', async () => {
    const err = new UpstreamError({ service: 'Graph', httpStatus: 403, upstreamCode: 'Authorization_RequestDenied', requestId: 'graph-req', transient: false, message: 'Graph answered 403: Bearer eyJsecret' });
    await expect(traceOutbound({ service: 'Graph', method: 'PATCH', url: 'http://127.0.0.1:7072/v1.0/servicePrincipals/x', attempt: 2 }, () => Promise.reject(err), () => ({ status: 200 }))).rejects.toBe(err);
    const span = exporter.getFinishedSpans()[0];
    expect(span?.attributes).toMatchObject({ 'http.response.status_code': 403, 'error.type': '403', 'service.request_id': 'graph-req', 'http.request.resend_count': 1, 'server.port': 7072 });
    expect(span?.status).toEqual({ code: 2, message: 'Authorization_RequestDenied' });
    expect(JSON.stringify({ attributes: span?.attributes, status: span?.status, events: span?.events })).not.toContain('eyJsecret');
  });

  it('records a time-out or a dropped connection by its code', async () => {
    const err = new UpstreamError({ service: 'ARM', upstreamCode: 'Timeout', transient: true, message: 'ARM timed out' });
    await expect(traceOutbound({ service: 'ARM', method: 'GET', url: 'https://management.azure.com/x', attempt: 1 }, () => Promise.reject(err), () => ({ status: 200 }))).rejects.toBe(err);
    expect(exporter.getFinishedSpans()[0]?.attributes['error.type']).toBe('Timeout');
  });
});
