import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { UpstreamError } from '../errors';

/** The issuer's OpenID configuration, as far as token checks need it. */
export interface IssuerKeys {
  /** The `issuer` the configuration names: what v2 tokens carry in `iss`. */
  issuer: string;
  /** Signing keys from `jwks_uri`, cached and re-read when a token names an unknown key id. */
  keys: JWTVerifyGetKey;
}

const discoverySchema = z.object({ issuer: z.string().min(1), jwks_uri: z.url() });

/** Every outbound call has a time-out: a hung key endpoint must not hold a request for minutes. */
export const KEY_FETCH_TIMEOUT_MS = 5_000;
/** The configuration rarely changes; keys rotate every few weeks and are re-read on an unknown `kid`. */
const DISCOVERY_TTL_MS = 24 * 3_600_000;

const cache = new Map<string, { at: number; value: Promise<IssuerKeys> }>();

/**
 * The signing keys of an OpenID issuer: reads `{issuer}/.well-known/openid-configuration` once (cached for a
 * day), then the key set from its `jwks_uri` (cached by jose, re-read at most every 30 s when a token names a
 * key id it does not hold, as after a key rotation).
 *
 * @throws UpstreamError (transient) when the configuration cannot be read: a failure is not a verdict on a token.
 */
export function issuerKeys(openIdIssuer: string, now: number = Date.now()): Promise<IssuerKeys> {
  const hit = cache.get(openIdIssuer);
  if (hit && now - hit.at < DISCOVERY_TTL_MS) {
    return hit.value;
  }
  const value = discover(openIdIssuer).catch((err: unknown) => {
    cache.delete(openIdIssuer); // the next request tries again
    throw err;
  });
  cache.set(openIdIssuer, { at: now, value });
  return value;
}

async function discover(openIdIssuer: string): Promise<IssuerKeys> {
  const url = `${openIdIssuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let body: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!res.ok) {
      throw new Error(`HTTP ${res.status}`);
    }
    body = await res.json();
  } catch (err) {
    throw keyServiceError(`OpenID configuration ${url} could not be read`, err);
  }
  const parsed = discoverySchema.safeParse(body);
  if (!parsed.success) {
    throw new UpstreamError({ service: 'Entra ID', transient: false, message: `OpenID configuration ${url} names no issuer or jwks_uri` });
  }
  const jwksUri = new URL(parsed.data.jwks_uri);
  // Keys come over TLS, except from a loopback simulator whose issuer itself is plain http.
  if (jwksUri.protocol !== 'https:' && !(jwksUri.protocol === 'http:' && new URL(url).protocol === 'http:')) {
    throw new UpstreamError({ service: 'Entra ID', transient: false, message: `OpenID configuration ${url} names a jwks_uri without https` });
  }
  return {
    issuer: parsed.data.issuer,
    keys: createRemoteJWKSet(jwksUri, { timeoutDuration: KEY_FETCH_TIMEOUT_MS, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 }),
  };
}

/** A failed read of the issuer's configuration or keys: retry later, never a verdict. */
export function keyServiceError(what: string, cause: unknown): UpstreamError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new UpstreamError({ service: 'Entra ID', httpStatus: 503, transient: true, message: `${what}: ${message}`, cause });
}
