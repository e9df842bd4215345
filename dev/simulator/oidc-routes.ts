import { createHash, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { z } from 'zod';
import type { SimRequest, SimResponse } from './sim-http';
import { json } from './sim-http';
import type { TenantState } from './tenant-state';

/**
 * Microsoft Entra ID's sign-in side, as far as the app sees it: OpenID discovery, the signing keys (JWKS), and
 * RS256-signed ID tokens and access tokens minted on request (standing in for an interactive sign-in and for a
 * managed identity's token request). One key pair per process, so an app that cached the keys of one
 * simulator still verifies the tokens of the next one started by the same test process.
 *
 * Routes:
 * - `GET /{tenant}/v2.0/.well-known/openid-configuration`, `GET /{tenant}/discovery/v2.0/keys`
 * - `POST /_sim/oidc/id-token {objectId, clientId, nonce?, lifetimeSeconds?, tenantId?, audience?, at?}`: the ID token
 *   Entra would give a user of the tenant after sign-in (400 for an object that is not a user of the tenant).
 * - `POST /_sim/oidc/access-token {objectId, audience, appId?, version?, lifetimeSeconds?, tenantId?}`: an app-only
 *   access token for a workload (a playbook's managed identity).
 * `tenantId` and `audience` overrides exist so tests can mint tokens Entra would issue for someone else.
 */
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicJwk = publicKey.export({ format: 'jwk' });
const KID = createHash('sha256').update(JSON.stringify(publicJwk)).digest('base64url').slice(0, 27);

/** The v2 issuer the simulator uses for `tenantId`; also `WEBSITE_AUTH_OPENID_ISSUER` for the app. */
export function simulatorIssuer(baseUrl: string, tenantId: string): string {
  return `${baseUrl}/${tenantId}/v2.0`;
}

const idTokenRequest = z.strictObject({
  objectId: z.string().min(1),
  clientId: z.string().min(1),
  nonce: z.string().optional(),
  lifetimeSeconds: z.number().int().min(-86_400).max(86_400).optional(),
  tenantId: z.string().optional(),
  audience: z.string().optional(),
  /** Epoch ms to issue the token at (tests that move the app's clock); default now. */
  at: z.number().int().positive().optional(),
});

const accessTokenRequest = z.strictObject({
  objectId: z.string().min(1),
  audience: z.string().min(1),
  appId: z.string().optional(),
  version: z.union([z.literal(1), z.literal(2)]).optional(),
  lifetimeSeconds: z.number().int().min(-86_400).max(86_400).optional(),
  tenantId: z.string().optional(),
});

/** Serves the OIDC routes; undefined for any other path. */
export async function handleOidc(state: TenantState, req: SimRequest): Promise<SimResponse | undefined> {
  const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys)$/.exec(req.path);
  if (m?.[1] !== undefined && req.method === 'GET') {
    if (m[1].toLowerCase() !== state.tenantId.toLowerCase()) {
      return json(400, { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${m[1]}' not found.` });
    }
    return m[2] === 'discovery/v2.0/keys' ? json(200, { keys: [{ ...publicJwk, kid: KID, use: 'sig', alg: 'RS256' }] }) : json(200, discovery(req.baseUrl, state.tenantId));
  }
  if (req.path === '/_sim/oidc/id-token' && req.method === 'POST') {
    const parsed = idTokenRequest.safeParse(req.body);
    if (!parsed.success) {
      return json(400, { error: 'invalid_request', error_description: parsed.error.message });
    }
    const p = parsed.data;
    const user = state.liveUser(p.objectId);
    if (!user || user['@odata.type'] !== '#microsoft.graph.user') {
      return json(400, { error: 'invalid_grant', error_description: `No user ${p.objectId} in the tenant can sign in.` });
    }
    const tid = p.tenantId ?? state.tenantId;
    const claims: Record<string, unknown> = {
      ver: '2.0',
      oid: user.id,
      tid,
      sub: createHash('sha256').update(`${user.id}|${p.clientId}`).digest('base64url').slice(0, 43),
      name: user.displayName,
      preferred_username: user.userPrincipalName,
      ...(p.nonce === undefined ? {} : { nonce: p.nonce }),
    };
    return json(200, await sign(claims, { issuer: simulatorIssuer(req.baseUrl, tid), audience: p.audience ?? p.clientId, lifetimeSeconds: p.lifetimeSeconds, at: p.at }, 'id_token'));
  }
  if (req.path === '/_sim/oidc/access-token' && req.method === 'POST') {
    const parsed = accessTokenRequest.safeParse(req.body);
    if (!parsed.success) {
      return json(400, { error: 'invalid_request', error_description: parsed.error.message });
    }
    const p = parsed.data;
    const tid = p.tenantId ?? state.tenantId;
    const v1 = (p.version ?? 1) === 1;
    const appId = p.appId ?? p.objectId;
    const claims: Record<string, unknown> = { ver: v1 ? '1.0' : '2.0', oid: p.objectId.toLowerCase(), sub: p.objectId.toLowerCase(), tid, idtyp: 'app', roles: [], ...(v1 ? { appid: appId } : { azp: appId }) };
    const issuer = v1 ? `https://sts.windows.net/${tid}/` : simulatorIssuer(req.baseUrl, tid);
    return json(200, await sign(claims, { issuer, audience: p.audience, lifetimeSeconds: p.lifetimeSeconds, at: undefined }, 'access_token'));
  }
  return undefined;
}

function discovery(baseUrl: string, tenantId: string): Record<string, unknown> {
  const issuer = simulatorIssuer(baseUrl, tenantId);
  return {
    issuer,
    authorization_endpoint: `${baseUrl}/${tenantId}/oauth2/v2.0/authorize`,
    token_endpoint: `${baseUrl}/${tenantId}/oauth2/v2.0/token`,
    jwks_uri: `${baseUrl}/${tenantId}/discovery/v2.0/keys`,
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'name', 'oid', 'tid', 'preferred_username', 'nonce', 'ver'],
    tenant_region_scope: 'EU',
  };
}

async function sign(
  claims: Record<string, unknown>,
  opts: { issuer: string; audience: string; lifetimeSeconds: number | undefined; at: number | undefined },
  field: 'id_token' | 'access_token',
): Promise<Record<string, unknown>> {
  const now = Math.floor((opts.at ?? Date.now()) / 1000);
  const lifetime = opts.lifetimeSeconds ?? 3600;
  // An expired token is minted as if issued an hour before it expired.
  const iat = lifetime > 0 ? now : now + lifetime - 3600;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: KID })
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(now + lifetime)
    .sign(privateKey);
  return { [field]: token, token_type: 'Bearer', expires_on: String(now + lifetime) };
}
