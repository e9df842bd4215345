import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors';
import { assertSigningKey, constantTimeEqual, decodeBase64UrlStrict, hmacSha256 } from './hmac-sha256';

/** Separates link MACs from every other MAC made with `APPROVAL_SIGNING_KEY`; bump the version to retire old links. */
const PURPOSE = 'approval-link.v1.';

/** Far longer than any token we issue; refuses oversized input before doing any work on it. */
const MAX_TOKEN_LENGTH = 2048;

/** What an approval link token asserts. */
export const approvalTokenClaimsSchema = z.strictObject({
  approvalId: z.string().min(1).max(200),
  /** Epoch milliseconds after which the link is refused. */
  expiresAt: z.number().int().nonnegative(),
  /** Random per link (see {@link newNonce}); lets one link be voided without touching its siblings. */
  nonce: z.string().min(1).max(200),
});
export type ApprovalTokenClaims = z.infer<typeof approvalTokenClaimsSchema>;

/** Why a link token was refused; `expired` deserves a different page (410) from the others (400). */
export type ApprovalTokenFailure = 'malformed' | 'bad-signature' | 'wrong-approval' | 'expired';

export type ApprovalTokenResult = { ok: true; claims: ApprovalTokenClaims } | { ok: false; reason: ApprovalTokenFailure };

/** A fresh 128-bit random nonce, base64url (22 characters). */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Signs the token carried in an approval link (`PUBLIC_BASE_URL/api/approvals/{id}?token=…`).
 *
 * Format: `base64url(JSON claims) + '.' + base64url(HMAC-SHA256(key, 'approval-link.v1.' + payloadPart))`.
 * The claims are readable by anyone holding the link; they hold no secret, only what the MAC vouches for.
 *
 * @throws AppError (500) when the key is shorter than 32 bytes or the claims are not well formed.
 * @example
 * const token = signApprovalToken(key, { approvalId: 'apr-1', expiresAt: Date.now() + 86_400_000, nonce: newNonce() });
 */
export function signApprovalToken(key: Buffer, claims: ApprovalTokenClaims): string {
  assertSigningKey(key);
  const parsed = approvalTokenClaimsSchema.safeParse(claims);
  if (!parsed.success) {
    throw new AppError('InvalidApprovalClaims', 500, 'Cannot sign an approval link: the claims are not well formed.', {
      cause: parsed.error,
    });
  }
  const payloadPart = Buffer.from(JSON.stringify(parsed.data), 'utf8').toString('base64url');
  const signaturePart = hmacSha256(key, PURPOSE, payloadPart).toString('base64url');
  return `${payloadPart}.${signaturePart}`;
}

/**
 * Checks a link token: signature (constant time), then that it names `expected.approvalId`, then expiry
 * (`now >= expiresAt` is expired). The signature is checked before the payload is parsed, so nothing an attacker
 * writes is interpreted until the MAC vouches for it. Never throws, whatever the input.
 */
export function verifyApprovalToken(
  key: Buffer,
  token: string,
  expected: { approvalId: string; now: number },
): ApprovalTokenResult {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    return { ok: false, reason: 'malformed' };
  }
  const parts = token.split('.');
  if (parts.length !== 2) {
    return { ok: false, reason: 'malformed' };
  }
  const [payloadPart = '', signaturePart = ''] = parts;
  const signature = decodeBase64UrlStrict(signaturePart);
  if (payloadPart.length === 0 || signature === undefined) {
    return { ok: false, reason: 'malformed' };
  }
  if (!constantTimeEqual(signature, hmacSha256(key, PURPOSE, payloadPart))) {
    return { ok: false, reason: 'bad-signature' };
  }
  const claims = parseClaims(payloadPart);
  if (claims === undefined) {
    // Only reachable with a token we signed ourselves in an older format, or a leaked key.
    return { ok: false, reason: 'malformed' };
  }
  if (claims.approvalId !== expected.approvalId) {
    return { ok: false, reason: 'wrong-approval' };
  }
  if (!(expected.now < claims.expiresAt)) {
    return { ok: false, reason: 'expired' };
  }
  return { ok: true, claims };
}

function parseClaims(payloadPart: string): ApprovalTokenClaims | undefined {
  const bytes = decodeBase64UrlStrict(payloadPart);
  if (bytes === undefined) {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = approvalTokenClaimsSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
