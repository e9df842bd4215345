import { HttpResponse } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { AppError, UpstreamError, ValidationError } from '../../../shared/errors';
import { jsonResponse, kebabCase, problemDetailsSchema, problemResponse } from '../../../shared/http/problem-response';

function recorder(): { error: (...a: unknown[]) => void; calls: unknown[][] } {
  const calls: unknown[][] = [];
  return { error: (...a: unknown[]) => calls.push(a), calls };
}

describe('problemResponse', () => {
  it('answers a ValidationError with problem+json naming each field', async () => {
    const log = recorder();
    const init = problemResponse(new ValidationError('The direct request is invalid.', [{ field: 'targets[1].id', message: 'must be a GUID' }]), {
      instance: '/api/alerts',
      log,
    });
    const res = new HttpResponse(init);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = problemDetailsSchema.parse(await res.json());
    expect(body).toEqual({
      type: 'https://agent-responders.dev/problems/validation-failed',
      title: 'Validation failed',
      status: 400,
      detail: 'The direct request is invalid.',
      instance: '/api/alerts',
      errors: [{ field: 'targets[1].id', message: 'must be a GUID' }],
    });
    expect(log.calls).toEqual([]);
  });

  it('answers 413 and 415 AppErrors with their code as type and no errors array', () => {
    const init = problemResponse(new AppError('PayloadTooLarge', 413, 'The request body is larger than 1048576 bytes.'), {});
    expect(init.status).toBe(413);
    expect(init.jsonBody).toEqual({
      type: 'https://agent-responders.dev/problems/payload-too-large',
      title: 'Payload too large',
      status: 413,
      detail: 'The request body is larger than 1048576 bytes.',
    });
  });

  it('turns an unknown error into a generic 500 and logs it in full, never in the body', () => {
    const log = recorder();
    const err = new Error('connection string AccountKey=abc123 leaked');
    const init = problemResponse(err, { log });
    const text = JSON.stringify(init.jsonBody);
    expect(init.status).toBe(500);
    expect(text).not.toContain('abc123');
    expect(text).not.toContain('at ');
    expect(init.jsonBody).toMatchObject({ type: 'https://agent-responders.dev/problems/internal-error', status: 500 });
    expect(log.calls).toHaveLength(1);
    expect(log.calls[0]?.[1]).toBe(err);
  });

  it('handles thrown non-errors', () => {
    const log = recorder();
    expect(problemResponse('boom', { log }).status).toBe(500);
    expect(problemResponse(undefined, { log }).status).toBe(500);
    expect(log.calls).toHaveLength(2);
  });

  it('logs server-side AppErrors and masks token-like strings in their message', () => {
    const log = recorder();
    const err = new UpstreamError({ service: 'Graph', message: 'Graph said no to Bearer abc.def.ghi', httpStatus: 403, upstreamCode: 'Authorization_RequestDenied', transient: false });
    const init = problemResponse(err, { log });
    expect(init.status).toBe(502);
    expect(init.jsonBody).toMatchObject({
      type: 'https://agent-responders.dev/problems/authorization-request-denied',
      detail: 'Graph said no to Bearer [redacted]',
    });
    expect(log.calls).toHaveLength(1);
  });
});

describe('jsonResponse', () => {
  it('builds a JSON response with extra headers', async () => {
    const res = new HttpResponse(jsonResponse(202, { caseId: 'c1' }, { location: '/api/cases/c1' }));
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('location')).toBe('/api/cases/c1');
    expect(await res.json()).toEqual({ caseId: 'c1' });
  });
});

describe('kebabCase', () => {
  it.each([
    ['ValidationFailed', 'validation-failed'],
    ['InvalidJson', 'invalid-json'],
    ['Authorization_RequestDenied', 'authorization-request-denied'],
    ['HTTPError', 'http-error'],
    ['', 'error'],
  ])('%s → %s', (code, kebab) => {
    expect(kebabCase(code)).toBe(kebab);
  });
});
