import { authSettings } from './auth-settings';
import { header, isAccessToken, principalOf, type PrincipalCheck, type PrincipalDeps } from './signed-in-principal';
import { verifyEntraToken } from './verify-entra-token';

/**
 * The workload calling an API route (a playbook's managed identity), verified from the bearer access token in
 * `Authorization` that App Service Authentication validated and passed through: signature, issuer (v1
 * `https://sts.windows.net/{tenant}/` or v2), audience = the app's client id or `api://<client id>`, expiry,
 * tenant. The caller's object id is the token's `oid`.
 *
 * @throws UpstreamError (transient) when the tenant's signing keys cannot be read.
 */
export async function callerPrincipal(deps: PrincipalDeps, headers: { get(name: string): string | null }): Promise<PrincipalCheck> {
  const settings = authSettings(deps.config);
  if (!settings.on) {
    return { ok: false, reason: 'auth-off', detail: settings.detail };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(header(headers, 'authorization') ?? '')?.[1];
  if (bearer === undefined) {
    return { ok: false, reason: 'signed-out', detail: 'The request carries no bearer token.' };
  }
  const verdict = await verifyEntraToken(bearer, { settings, audiences: [settings.clientId, `api://${settings.clientId}`], now: deps.now() });
  if (!verdict.ok) {
    return { ok: false, reason: 'invalid-token', detail: `The caller's token could not be verified: ${verdict.detail}.` };
  }
  if (!isAccessToken(verdict.claims)) {
    // An ID token proves a sign-in to the app, not that a workload was issued a token to call it.
    return { ok: false, reason: 'invalid-token', detail: "The caller's token could not be verified: it is an ID token, not an access token." };
  }
  const principal = principalOf(verdict.claims);
  const app = verdict.claims.appid ?? verdict.claims.azp;
  // Managed identity tokens carry no name; the client id is what an operator finds in the portal.
  return { ok: true, principal: principal.name === principal.objectId && app ? { ...principal, name: `application ${app}` } : principal };
}
