import { assertSigningKey, constantTimeEqual, decodeBase64UrlStrict, hmacSha256 } from './hmac-sha256';

/** Distinct from the link purpose, so a link MAC can never pass as a form token or the reverse. */
const PURPOSE = 'approval-form.v1.';

/** How long a rendered confirmation form may be submitted: long enough to read it, short enough to limit replay. */
export const ANTI_FORGERY_TTL_MS = 30 * 60 * 1000;

/** Tolerated clock difference between instances for a token that seems issued in the future. */
const CLOCK_SKEW_MS = 60 * 1000;

/** What an anti-forgery token is bound to. */
export interface AntiForgeryBinding {
  approvalId: string;
  /** The signed-in approver's object id, as `parseClientPrincipal` returns it. */
  principalId: string;
  /** The nonce of the link the form was reached through, so voiding a link voids its forms too. */
  nonce: string;
  /** Epoch ms: issue time for {@link issueAntiForgeryToken}, the current time for {@link verifyAntiForgeryToken}. */
  now: number;
}

/**
 * Issues the token placed in the confirmation form's hidden `af` field. A cross-site form post (the approver is
 * signed in, so the browser sends the Easy Auth cookie) cannot produce it: it is an HMAC over the approval, the
 * signed-in principal, the link nonce and the issue time, with its own purpose string.
 *
 * Format: `issuedAtMs '.' base64url(HMAC-SHA256(key, 'approval-form.v1.' + JSON([approvalId, principalId, nonce, issuedAtMs])))`.
 *
 * @throws AppError (500) when the key is shorter than 32 bytes.
 */
export function issueAntiForgeryToken(key: Buffer, binding: AntiForgeryBinding): string {
  assertSigningKey(key);
  const issuedAt = Math.trunc(binding.now);
  return `${issuedAt}.${mac(key, binding, issuedAt).toString('base64url')}`;
}

/**
 * True when `token` was issued for exactly this approval, principal and link nonce less than 30 minutes before
 * `now`. The MAC is compared in constant time; never throws, whatever the input.
 */
export function verifyAntiForgeryToken(key: Buffer, token: string, binding: AntiForgeryBinding): boolean {
  if (typeof token !== 'string' || token.length > 200) {
    return false;
  }
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]+)$/.exec(token);
  if (match === null) {
    return false;
  }
  const issuedAt = Number(match[1]);
  const supplied = decodeBase64UrlStrict(match[2] ?? '');
  if (supplied === undefined || !Number.isSafeInteger(issuedAt)) {
    return false;
  }
  // The MAC is checked even when the time is wrong, so timing does not tell which check failed.
  const macOk = constantTimeEqual(supplied, mac(key, binding, issuedAt));
  const fresh = binding.now - issuedAt < ANTI_FORGERY_TTL_MS && issuedAt - binding.now <= CLOCK_SKEW_MS;
  return macOk && fresh;
}

function mac(key: Buffer, binding: AntiForgeryBinding, issuedAt: number): Buffer {
  // A JSON array keeps the fields unambiguous whatever characters they hold.
  return hmacSha256(key, PURPOSE, JSON.stringify([binding.approvalId, binding.principalId, binding.nonce, issuedAt]));
}
