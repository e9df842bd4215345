import { errors, jwtVerify, type JWTPayload } from 'jose';
import { keyServiceError, issuerKeys } from './entra-keys';
import type { AuthSettings } from './auth-settings';
import { VerifiedTokens } from './verified-tokens';

/** The claims the app reads from a verified Entra token. */
export interface EntraClaims extends JWTPayload {
  oid: string;
  tid: string;
  name?: string;
  preferred_username?: string;
  upn?: string;
  email?: string;
  appid?: string;
  azp?: string;
}

export type TokenVerdict = { ok: true; claims: EntraClaims } | { ok: false; detail: string };

/** Tolerated clock difference between Entra and this instance. */
const CLOCK_TOLERANCE_S = 120;
/** Entra tokens are a few KB; anything far larger is not one. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Tokens verified already (see VerifiedTokens). */
const verified = new VerifiedTokens(CLOCK_TOLERANCE_S);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** jose errors that are a verdict on the token itself; anything else (timeouts, key endpoint down) is not. */
const TOKEN_FAULTS = new Set([
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

/**
 * Verifies an Entra ID token or access token: RS256 signature against the tenant's published keys, issuer
 * (the configuration's v2 issuer, or the v1 `https://sts.windows.net/{tenant}/`), one of `audiences`, expiry
 * and not-before (2 minutes' tolerance), the tenant (`tid`) and a GUID object id (`oid`).
 *
 * @returns a verdict on the token; never throws for a bad token.
 * @throws UpstreamError (transient) when the keys cannot be read: the caller answers 503, not "invalid".
 */
export async function verifyEntraToken(
  token: string,
  opts: { settings: Extract<AuthSettings, { on: true }>; audiences: string[]; now: number },
): Promise<TokenVerdict> {
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) {
    return { ok: false, detail: 'the token is not a signed JWT' };
  }
  const { settings } = opts;
  const cacheKey = VerifiedTokens.keyOf(token, [settings.openIdIssuer, settings.tenantId, ...opts.audiences]);
  const known = verified.get(cacheKey, opts.now);
  if (known) {
    return { ok: true, claims: { ...known } };
  }
  const { issuer, keys } = await issuerKeys(settings.openIdIssuer, opts.now);
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, keys, {
      algorithms: ['RS256'],
      issuer: [issuer, `https://sts.windows.net/${settings.tenantId}/`],
      audience: opts.audiences,
      currentDate: new Date(opts.now),
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ['exp', 'iat', 'oid', 'tid'],
    }));
  } catch (err) {
    if (err instanceof errors.JOSEError && TOKEN_FAULTS.has(err.code)) {
      return { ok: false, detail: describe(err) };
    }
    throw keyServiceError(`signing keys of ${settings.openIdIssuer} could not be read`, err);
  }
  if (typeof claims['tid'] !== 'string' || claims['tid'].toLowerCase() !== settings.tenantId) {
    return { ok: false, detail: 'the token was issued for another tenant' };
  }
  if (typeof claims['oid'] !== 'string' || !GUID.test(claims['oid'])) {
    return { ok: false, detail: 'the token carries no object id' };
  }
  const checked: EntraClaims = { ...claims, oid: claims['oid'].toLowerCase(), tid: claims['tid'].toLowerCase() };
  verified.remember(cacheKey, checked, opts.now);
  return { ok: true, claims: checked };
}

function describe(err: errors.JOSEError): string {
  if (err instanceof errors.JWTExpired) {
    return 'the token has expired';
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return `the token's "${err.claim}" claim is not acceptable`;
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWSSignatureVerificationFailed) {
    return 'the token is not signed by the tenant';
  }
  return 'the token is malformed or uses an algorithm the app does not accept';
}
