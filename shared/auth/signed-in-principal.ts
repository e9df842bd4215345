import type { Config } from '../config';
import { authSettings } from './auth-settings';
import { parseClientPrincipal } from './client-principal';
import { verifyEntraToken, type EntraClaims } from './verify-entra-token';

/** A person or workload whose Entra token the app itself verified. */
export interface SignedInPrincipal {
  /** Entra object id, lower-case GUID: the identity every rule uses. */
  objectId: string;
  /** Display name, for pages and audit; never used for a decision. */
  name: string;
  /** Sign-in name (UPN or e-mail) when the token carries one. */
  upn?: string;
  /** Lower-case tenant id, always the app's own. */
  tenantId: string;
}

export type PrincipalCheck =
  | { ok: true; principal: SignedInPrincipal }
  | { ok: false; reason: 'auth-off' | 'signed-out' | 'invalid-token'; detail: string };

export interface PrincipalDeps {
  config: Pick<Config, 'WEBSITE_AUTH_ENABLED' | 'WEBSITE_AUTH_CLIENT_ID' | 'WEBSITE_AUTH_OPENID_ISSUER'>;
  now: () => number;
}

type Headers = { get(name: string): string | null };

/**
 * The person signed in through App Service Authentication, verified from the ID token Easy Auth passes
 * (`X-MS-TOKEN-AAD-ID-TOKEN`, token store on): signature, issuer, audience = the app's client id, expiry and
 * tenant. The `x-ms-client-principal` header alone decides nothing; when present it must name the same
 * object id as the token.
 *
 * @throws UpstreamError (transient) when the tenant's signing keys cannot be read.
 * @example
 * const who = await signedInPrincipal(deps, request.headers);
 * if (!who.ok) return signInPage(who.reason);
 */
export async function signedInPrincipal(deps: PrincipalDeps, headers: Headers): Promise<PrincipalCheck> {
  const settings = authSettings(deps.config);
  if (!settings.on) {
    return { ok: false, reason: 'auth-off', detail: settings.detail };
  }
  const token = header(headers, 'x-ms-token-aad-id-token');
  if (token === undefined) {
    const easyAuthPrincipal = parseClientPrincipal(headers) !== undefined;
    return {
      ok: false,
      reason: 'signed-out',
      detail: easyAuthPrincipal
        ? 'App Service Authentication passed a principal but no ID token: turn its token store on.'
        : 'Nobody is signed in.',
    };
  }
  const verdict = await verifyEntraToken(token, { settings, audiences: [settings.clientId], now: deps.now() });
  if (!verdict.ok) {
    return { ok: false, reason: 'invalid-token', detail: `The sign-in could not be verified: ${verdict.detail}.` };
  }
  if (isAccessToken(verdict.claims)) {
    // An access token (a workload's, or one meant for an API) is not a person's sign-in, whoever it names.
    return { ok: false, reason: 'invalid-token', detail: 'The sign-in could not be verified: the token is an access token, not an ID token.' };
  }
  const claimed = parseClientPrincipal(headers);
  if (claimed !== undefined && claimed.objectId !== verdict.claims.oid) {
    return { ok: false, reason: 'invalid-token', detail: 'The sign-in could not be verified: the principal header and the ID token name different people.' };
  }
  return { ok: true, principal: principalOf(verdict.claims) };
}

/**
 * Whether verified claims are an access token rather than an ID token: access tokens name the client they were
 * issued to (`appid` in v1, `azp` in v2) and carry scopes or app roles; ID tokens do neither.
 */
export function isAccessToken(claims: EntraClaims): boolean {
  return claims.appid !== undefined || claims.azp !== undefined || claims['scp'] !== undefined || claims['idtyp'] === 'app';
}

/** A header's value, or undefined when absent, empty or unreadable. */
export function header(headers: Headers, name: string): string | undefined {
  let value: string | null;
  try {
    value = headers.get(name);
  } catch {
    return undefined;
  }
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed.length === 0 ? undefined : trimmed;
}

/** The principal a verified token describes. */
export function principalOf(claims: EntraClaims): SignedInPrincipal {
  const upn = [claims.preferred_username, claims.upn, claims.email].find((v): v is string => typeof v === 'string' && v.length > 0);
  const name = typeof claims.name === 'string' && claims.name.length > 0 ? claims.name : (upn ?? claims.oid);
  return { objectId: claims.oid, name, ...(upn === undefined ? {} : { upn }), tenantId: claims.tid };
}
