import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors';

/** The shortest signing key accepted: `APPROVAL_SIGNING_KEY` must hold at least 32 bytes (see `shared/config.ts`). */
export const MIN_SIGNING_KEY_BYTES = 32;

/**
 * HMAC-SHA256 over `purpose + data`. The purpose string (e.g. `approval-link.v1.`) keeps a MAC made for one use
 * from being accepted for another, even though every use shares `APPROVAL_SIGNING_KEY`.
 */
export function hmacSha256(key: Buffer, purpose: string, data: string): Buffer {
  return createHmac('sha256', key).update(purpose, 'utf8').update(data, 'utf8').digest();
}

/**
 * Compares a MAC supplied by a caller with the expected one without leaking, through timing, how many leading
 * bytes match or how long the expected value is: the supplied bytes are copied into a buffer of the expected
 * length so `timingSafeEqual` always runs over the same number of bytes, and the length check is combined
 * afterwards.
 */
export function constantTimeEqual(supplied: Buffer, expected: Buffer): boolean {
  const padded = Buffer.alloc(expected.length);
  supplied.copy(padded, 0, 0, Math.min(supplied.length, expected.length));
  const sameBytes = timingSafeEqual(padded, expected);
  return sameBytes && supplied.length === expected.length;
}

/** Stops a signer from issuing tokens with a key too short to be safe (a wiring bug, hence a 500). */
export function assertSigningKey(key: Buffer): void {
  if (key.length < MIN_SIGNING_KEY_BYTES) {
    throw new AppError(
      'ApprovalSigningKeyTooShort',
      500,
      `The approval signing key must hold at least ${MIN_SIGNING_KEY_BYTES} bytes.`,
    );
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Decodes base64url strictly: `Buffer.from(..., 'base64url')` silently ignores stray characters and the unused
 * low bits of the last character, so several strings would decode to the same MAC; only the canonical form is
 * accepted, which makes every edit of a token detectable.
 */
export function decodeBase64UrlStrict(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) {
    return undefined;
  }
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}
