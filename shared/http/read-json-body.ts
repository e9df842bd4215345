import type { HttpRequest } from '@azure/functions';
import { AppError } from '../errors';
import { DEFAULT_MAX_JSON_DEPTH, parseJsonText } from './parse-json-text';

/** Default body limit: a Sentinel incident with hundreds of entities stays well below it. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Options for {@link readJsonBody}. */
export interface ReadJsonBodyOptions {
  /** Largest body accepted, in bytes; default 1 MiB. */
  maxBytes?: number;
  /** Deepest nesting accepted; default 64. */
  maxDepth?: number;
}

/**
 * Reads and parses a JSON request body, refusing anything the app should not try to interpret:
 * - 415 `UnsupportedMediaType` unless the content type is `application/json` or `application/*+json`
 *   (parameters allowed; a `charset` other than UTF-8 is refused, JSON is UTF-8 by RFC 8259);
 * - 413 `PayloadTooLarge` when `content-length` announces, or the bytes read reach, more than `maxBytes`;
 * - 400 `EmptyBody` for an empty or all-whitespace body (Sentinel automation sometimes posts one);
 * - 400 `InvalidJson` for invalid UTF-8, invalid JSON (message gives line, column and position, never the
 *   body) or nesting deeper than `maxDepth`.
 *
 * The body is read once, with `request.arrayBuffer()`.
 *
 * @example
 * const body = await readJsonBody(request); // unknown: hand it to a schema next
 */
export async function readJsonBody(request: HttpRequest, opts: ReadJsonBodyOptions = {}): Promise<unknown> {
  return (await readJsonBodyText(request, opts)).value;
}

/** The parsed body and the exact text it was parsed from (kept as the forensic record of what was posted). */
export interface JsonBodyText {
  value: unknown;
  text: string;
}

/**
 * {@link readJsonBody}, also returning the decoded text, so a caller can keep the raw body (for forensics)
 * without reading the request twice. Same checks, same errors.
 */
export async function readJsonBodyText(request: HttpRequest, opts: ReadJsonBodyOptions = {}): Promise<JsonBodyText> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;

  assertJsonContentType(request.headers.get('content-type'));

  // Refuse early on the announced length, before buffering anything.
  const announced = request.headers.get('content-length');
  if (announced !== null && /^\s*\d+\s*$/.test(announced) && Number(announced) > maxBytes) {
    throw tooLarge(maxBytes);
  }

  const bytes = new Uint8Array(await request.arrayBuffer());
  // The announced length may be absent (chunked) or wrong, so the actual size is checked too.
  if (bytes.byteLength > maxBytes) {
    throw tooLarge(maxBytes);
  }

  let text: string;
  try {
    // fatal: a lone surrogate or truncated sequence must be refused, not silently replaced with U+FFFD.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new AppError('InvalidJson', 400, 'The request body is not valid UTF-8.', { cause: err });
  }

  const parsed = parseJsonText(text, maxDepth);
  if (!parsed.ok) {
    if (parsed.problem.kind === 'empty') {
      throw new AppError('EmptyBody', 400, 'The request body is empty; a JSON document is required.');
    }
    throw new AppError('InvalidJson', 400, `The request body is not valid JSON. ${parsed.problem.message}`);
  }
  return { value: parsed.value, text };
}

function tooLarge(maxBytes: number): AppError {
  return new AppError('PayloadTooLarge', 413, `The request body is larger than ${maxBytes} bytes.`);
}

function assertJsonContentType(header: string | null): void {
  const [essence = '', ...params] = (header ?? '').split(';');
  const mediaType = essence.trim().toLowerCase();
  const isJson = mediaType === 'application/json' || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(mediaType);
  if (!isJson) {
    throw new AppError(
      'UnsupportedMediaType',
      415,
      header === null || mediaType === ''
        ? 'A Content-Type header is required; send application/json.'
        : 'Unsupported Content-Type; send application/json.',
    );
  }
  for (const param of params) {
    const eq = param.indexOf('=');
    const name = param.slice(0, eq < 0 ? undefined : eq).trim().toLowerCase();
    const value = eq < 0 ? '' : param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (name === 'charset' && value !== 'utf-8' && value !== 'utf8') {
      throw new AppError('UnsupportedMediaType', 415, 'Unsupported charset; JSON must be sent as UTF-8.');
    }
  }
}
