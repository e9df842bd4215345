import type { RpcTypedData } from './core-types';

export type MessageEncoding = 'base64' | 'none';

/** Encodes message contents for the wire the way the queues extension does with the given `messageEncoding`. */
export function encodeQueueMessage(content: string | Uint8Array, encoding: MessageEncoding): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
  return encoding === 'base64' ? bytes.toString('base64') : bytes.toString('utf8');
}

/** Decodes a received message; a malformed base64 message fails like any invocation (and ends in poison). */
export function decodeQueueMessage(text: string, encoding: MessageEncoding): string {
  if (encoding === 'none') {
    return text;
  }
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new Error('The input is not a valid Base-64 string (host.json messageEncoding is "base64")');
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

/**
 * The trigger payload as the host hands it to the worker: JSON objects/arrays as `json` (so the handler gets an
 * object), anything else as `string` (which the library still JSON-parses when it can, e.g. `"42"` → 42).
 */
export function queueMessageToTypedData(content: string): RpcTypedData {
  const trimmed = content.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      JSON.parse(trimmed);
      return { json: content };
    } catch {
      // Not JSON after all: pass the text through.
    }
  }
  return { string: content };
}

/**
 * Splits an output binding value into message contents: an array (from `context.extraOutputs.set(q, [a, b])`)
 * becomes one message per element, objects are serialised as JSON, bytes stay bytes.
 */
export function typedDataToQueueMessages(data: RpcTypedData | null | undefined): (string | Uint8Array)[] {
  if (!data) {
    return [];
  }
  if (data.string !== undefined && data.string !== null) {
    return [data.string];
  }
  if (data.json !== undefined && data.json !== null) {
    const parsed: unknown = JSON.parse(data.json);
    if (Array.isArray(parsed)) {
      return parsed.map((item: unknown) => (typeof item === 'string' ? item : JSON.stringify(item)));
    }
    return [data.json];
  }
  if (data.bytes) {
    return [data.bytes];
  }
  if (typeof data.int === 'number' || typeof data.double === 'number') {
    return [String(data.int ?? data.double)];
  }
  if (data.collectionString?.string) {
    return data.collectionString.string;
  }
  if (data.collectionBytes?.bytes) {
    return data.collectionBytes.bytes;
  }
  throw new Error(`Unsupported queue output value: ${Object.keys(data).join(', ')}`);
}
