import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A response decided by a route handler, written by the server (or wrapped into a `$batch` item). */
export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless `text` is set. */
  body?: unknown;
  text?: string;
}

/** An incoming call, with its body already read and parsed. */
export interface SimRequest {
  method: string;
  /** Path without the query string, percent-decoding left to the routes. */
  path: string;
  query: URLSearchParams;
  /** Query string without the leading `?`. */
  rawQuery: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  /** Parsed JSON when the body is JSON, the text otherwise, undefined when empty. */
  body: unknown;
  /** The body was sent as JSON but did not parse. */
  bodyInvalid: boolean;
  /** `http://127.0.0.1:port`, for absolute links. */
  baseUrl: string;
}

export function json(status: number, body?: unknown, headers?: Record<string, string>): SimResponse {
  return { status, body, headers };
}

export const newGuid = (): string => randomUUID();

const MAX_BODY = 16 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) {
      throw new Error('request body too large');
    }
    chunks.push(b);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/** Parse a body: JSON when it looks like JSON (clients do not always send the content type), else text. */
export function parseBody(raw: Buffer, contentType: string | undefined): { body: unknown; invalid: boolean } {
  if (raw.length === 0) {
    return { body: undefined, invalid: false };
  }
  const text = raw.toString('utf8');
  const first = text.trimStart()[0];
  const looksJson = first === '{' || first === '[' || (contentType ?? '').includes('json');
  if (!looksJson) {
    return { body: text, invalid: false };
  }
  try {
    return { body: JSON.parse(text) as unknown, invalid: false };
  } catch {
    return { body: text, invalid: true };
  }
}

export function headerMap(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export function writeResponse(res: ServerResponse, r: SimResponse, contentType = 'application/json; charset=utf-8'): void {
  const headers: Record<string, string> = { ...r.headers };
  let payload: string | undefined;
  if (r.text !== undefined) {
    payload = r.text;
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  } else if (r.body !== undefined && r.status !== 204) {
    payload = JSON.stringify(r.body);
    headers['content-type'] ??= contentType;
  }
  if (payload !== undefined) {
    headers['content-length'] = String(Buffer.byteLength(payload));
  } else {
    headers['content-length'] = '0';
  }
  res.writeHead(r.status, headers);
  res.end(payload);
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
