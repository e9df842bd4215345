import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { readJsonBody, readJsonBodyText } from '../../../shared/http/read-json-body';

const URL = 'http://localhost/api/alerts';
const request = (body: { string: string } | { bytes: Uint8Array } | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }): HttpRequest =>
  new HttpRequest({ method: 'POST', url: URL, ...(body === undefined ? {} : { body }), headers });

async function failure(req: HttpRequest, opts?: { maxBytes?: number }): Promise<AppError> {
  try {
    await readJsonBody(req, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected readJsonBody to fail');
}

describe('readJsonBody', () => {
  it('parses a JSON body', async () => {
    await expect(readJsonBody(request({ string: '{"a":[1,"é",null]}' }))).resolves.toEqual({ a: [1, 'é', null] });
  });

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"', 'application/problem+json', 'application/vnd.sentinel+json'])(
    'accepts content type %s',
    async (contentType) => {
      await expect(readJsonBody(request({ string: '[]' }, { 'content-type': contentType }))).resolves.toEqual([]);
    },
  );

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'application/json; charset=iso-8859-1'])(
    'refuses content type %s with 415',
    async (contentType) => {
      const err = await failure(request({ string: '{}' }, { 'content-type': contentType }));
      expect([err.status, err.code]).toEqual([415, 'UnsupportedMediaType']);
    },
  );

  it('refuses a body without content type with 415', async () => {
    expect((await failure(request({ string: '{}' }, {}))).status).toBe(415);
  });

  it('refuses a body whose content-length announces more than the limit with 413', async () => {
    const err = await failure(request({ string: '{}' }, { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) }));
    expect([err.status, err.code]).toEqual([413, 'PayloadTooLarge']);
  });

  it('refuses a body larger than the limit even when content-length is absent', async () => {
    const err = await failure(request({ string: JSON.stringify({ a: 'x'.repeat(200) }) }), { maxBytes: 100 });
    expect(err.status).toBe(413);
    await expect(readJsonBody(request({ string: JSON.stringify({ a: 'x'.repeat(80) }) }), { maxBytes: 100 })).resolves.toBeDefined();
  });

  it('refuses more than 1 MiB by default', async () => {
    const err = await failure(request({ string: `"${'x'.repeat(1024 * 1024)}"` }));
    expect(err.status).toBe(413);
  });

  it('refuses invalid UTF-8 with 400', async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // {"a":"\xff\xfe"}
    const err = await failure(request({ bytes }));
    expect([err.status, err.code, err.message]).toEqual([400, 'InvalidJson', 'The request body is not valid UTF-8.']);
  });

  it('refuses invalid JSON with its position and without echoing the body', async () => {
    const secret = 'Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig';
    const err = await failure(request({ string: `{"token":"${secret}",\n "x": }` }));
    expect([err.status, err.code]).toEqual([400, 'InvalidJson']);
    expect(err.message).toContain('line 2, column 7');
    expect(err.message).not.toContain('eyJ');
    expect(err.message).not.toContain('token');
  });

  it('refuses JSON nested deeper than 64 levels before parsing it', async () => {
    const ok = `${'['.repeat(64)}${']'.repeat(64)}`;
    await expect(readJsonBody(request({ string: ok }))).resolves.toBeDefined();
    const err = await failure(request({ string: `{"a":${'['.repeat(100_000)}` }));
    expect([err.status, err.code]).toEqual([400, 'InvalidJson']);
    expect(err.message).toMatch(/nested deeper than 64 levels/);
  });

  it.each(['', '   \n'])('refuses an empty body (%j) with 400', async (text) => {
    const err = await failure(request({ string: text }));
    expect([err.status, err.code]).toEqual([400, 'EmptyBody']);
  });

  it('refuses a request without a body with 400', async () => {
    expect((await failure(request(undefined))).status).toBe(400);
  });

  it('returns the decoded text with the value, for the forensic record', async () => {
    const text = '{ "a" : 1 }';
    await expect(readJsonBodyText(request({ string: text }))).resolves.toEqual({ value: { a: 1 }, text });
  });

  it('accepts a UTF-8 byte order mark', async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"a":1}')]);
    await expect(readJsonBody(request({ bytes }))).resolves.toEqual({ a: 1 });
  });
});
