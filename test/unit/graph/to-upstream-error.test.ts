import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../../shared/errors';
import { isUnsent } from '../../../shared/net/retry-policy';
import { networkToUpstreamError, responseToUpstreamError } from '../../../shared/net/to-upstream-error';

describe('responseToUpstreamError', () => {
  it("keeps Graph's error code, message and request id", () => {
    const body = {
      error: {
        code: 'Request_BadRequest',
        message: "Property 'bogus' does not exist as a declared property or extension property.",
        innerError: { date: '2026-11-20T09:00:00', 'request-id': 'b5c1d2e3-0000-4000-8000-000000000001', 'client-request-id': 'x' },
      },
    };
    const err = responseToUpstreamError('Graph', 400, new Headers({ 'request-id': 'b5c1d2e3-0000-4000-8000-000000000001' }), body);
    expect(err).toMatchObject({
      service: 'Graph',
      httpStatus: 400,
      upstreamCode: 'Request_BadRequest',
      code: 'Request_BadRequest',
      requestId: 'b5c1d2e3-0000-4000-8000-000000000001',
      transient: false,
      retryAfterMs: undefined,
    });
    expect(err.message).toBe("Graph answered 400 Request_BadRequest: Property 'bogus' does not exist as a declared property or extension property.");
  });

  it('marks throttling transient and carries the Retry-After hint', () => {
    const err = responseToUpstreamError('Graph', 429, new Headers({ 'Retry-After': '7', 'request-id': 'r1' }), { error: { code: 'TooManyRequests', message: 'Too many requests.' } });
    expect(err).toMatchObject({ transient: true, retryAfterMs: 7_000, upstreamCode: 'TooManyRequests', requestId: 'r1' });
    const ip = responseToUpstreamError('Graph', 429, new Headers(), { error: { code: 'TooManyRequests', message: 'Identity Protection allows 1 request per second per tenant.' } });
    expect(ip).toMatchObject({ transient: true, retryAfterMs: undefined });
  });

  it("reads ARM's error and its x-ms-request-id", () => {
    const err = responseToUpstreamError('ARM', 404, new Headers({ 'x-ms-request-id': 'arm-req-1', 'x-ms-correlation-request-id': 'corr-1' }), {
      error: { code: 'NotFound', message: "Incident '8f1c…' not found." },
    });
    expect(err).toMatchObject({ service: 'ARM', httpStatus: 404, upstreamCode: 'NotFound', requestId: 'arm-req-1', transient: false });
    const corr = responseToUpstreamError('ARM', 409, new Headers({ 'x-ms-correlation-request-id': 'corr-2' }), { error: { code: 'Conflict', message: 'etag' } });
    expect(corr.requestId).toBe('corr-2');
  });

  it("joins Jira's errorMessages and field errors (Jira sends no code)", () => {
    const err = responseToUpstreamError('Jira', 400, new Headers(), { errorMessages: ['Issue type is required.'], errors: { summary: 'You must specify a summary of the issue.' } });
    expect(err.upstreamCode).toBeUndefined();
    expect(err.code).toBe('JiraError');
    expect(err.message).toBe('Jira answered 400: Issue type is required.; {"summary":"You must specify a summary of the issue."}');
  });

  it("reads ServiceNow's error message and detail", () => {
    const err = responseToUpstreamError('ServiceNow', 401, new Headers(), { error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' }, status: 'failure' });
    expect(err.message).toBe('ServiceNow answered 401: User Not Authenticated');
    expect(err.transient).toBe(false);
  });

  it('uses a text body as the message and shortens long ones', () => {
    expect(responseToUpstreamError('Webhook', 503, new Headers(), 'upstream busy').message).toBe('Webhook answered 503: upstream busy');
    const long = responseToUpstreamError('Webhook', 502, new Headers(), 'x'.repeat(1_000));
    expect(long.message).toBe(`Webhook answered 502: ${'x'.repeat(300)}…`);
    expect(long.transient).toBe(true);
    expect(responseToUpstreamError('Graph', 500, new Headers(), undefined).message).toBe('Graph answered 500');
  });

  it('classifies every 5xx, 408 and 429 as transient and every other 4xx as an answer', () => {
    for (const status of [408, 429, 500, 501, 502, 503, 504, 599]) {
      expect(responseToUpstreamError('Graph', status, new Headers(), undefined).transient, `status ${status}`).toBe(true);
    }
    for (const status of [400, 401, 403, 404, 405, 409, 410, 412, 413, 422]) {
      expect(responseToUpstreamError('Graph', status, new Headers(), undefined).transient, `status ${status}`).toBe(false);
    }
  });
});

describe('networkToUpstreamError', () => {
  it('makes a refused connection a transient failure that provably never reached the service', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
    const err = networkToUpstreamError('Graph', new TypeError('fetch failed', { cause }));
    expect(err).toMatchObject({ service: 'Graph', transient: true, upstreamCode: 'ConnectFailed', httpStatus: undefined });
    expect(isUnsent(err)).toBe(true);
    expect(err.message).toBe('Graph unreachable: fetch failed: connect ECONNREFUSED 127.0.0.1:443');
  });

  it('makes a reset or closed connection transient but of unknown outcome (the service may have acted)', () => {
    const cause = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    const reset = networkToUpstreamError('Jira', new TypeError('fetch failed', { cause }));
    expect(reset).toMatchObject({ transient: true, upstreamCode: 'NetworkError' });
    expect(isUnsent(reset)).toBe(false);
    expect(networkToUpstreamError('ARM', 'socket hang up')).toMatchObject({ transient: true, upstreamCode: 'NetworkError', message: 'ARM unreachable: Non-error thrown: socket hang up' });
  });

  it('passes an upstream error (a time-out raised by the caller) through unchanged', () => {
    const timeout = new UpstreamError({ service: 'Graph', transient: true, upstreamCode: 'Timeout', message: 'Graph did not answer within 10000 ms' });
    expect(networkToUpstreamError('Graph', timeout)).toBe(timeout);
  });
});
