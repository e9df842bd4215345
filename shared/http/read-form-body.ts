import type { HttpRequest } from '@azure/functions';
import { AppError } from '../errors';

/** A page's form is a few fields; anything far larger was not sent by it. */
export const MAX_FORM_BYTES = 16_384;

/**
 * Reads the body of a form a page posts: 415 `UnsupportedMediaType` unless it is
 * `application/x-www-form-urlencoded`, 413 `PayloadTooLarge` past {@link MAX_FORM_BYTES}.
 *
 * @example
 * const body = await readFormBody(request, 'the release form'); // then `new URLSearchParams(body)`
 */
export async function readFormBody(request: Pick<HttpRequest, 'headers' | 'text'>, what: string): Promise<string> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new AppError('UnsupportedMediaType', 415, `${what} is posted as application/x-www-form-urlencoded from its page.`);
  }
  const announced = Number(request.headers.get('content-length') ?? '0');
  if (announced > MAX_FORM_BYTES) {
    throw new AppError('PayloadTooLarge', 413, `${what} is too large.`);
  }
  const body = await request.text();
  if (Buffer.byteLength(body) > MAX_FORM_BYTES) {
    throw new AppError('PayloadTooLarge', 413, `${what} is too large.`);
  }
  return body;
}
