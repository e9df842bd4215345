import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SimRequest, SimResponse } from './sim-http';
import { json } from './sim-http';

/**
 * Signing key for simulator tokens. One per process, not per simulator start: MSAL keeps managed-identity
 * tokens in a process-wide static cache keyed by resource (not by endpoint), so a test file that stops one
 * simulator and starts another would otherwise be handed a cached token the new one rejects.
 */
const SIGNING_KEY = randomBytes(32);

export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';
export const ARM_AUDIENCE = 'https://management.azure.com';
export const LOG_ANALYTICS_AUDIENCE = 'https://api.loganalytics.io';
const STORAGE_AUDIENCE = 'https://storage.azure.com';
/** Azure Monitor's Logs Ingestion API (the audit pipeline's data collection endpoint). */
export const MONITOR_AUDIENCE = 'https://monitor.azure.com';

/**
 * The resources the simulator issues tokens for. Entra ID refuses a token for a resource it does not know
 * (AADSTS500011), so a mistyped scope fails here as it would in Azure instead of yielding a token no route takes.
 */
export const ISSUABLE_AUDIENCES: readonly string[] = [GRAPH_AUDIENCE, ARM_AUDIENCE, LOG_ANALYTICS_AUDIENCE, STORAGE_AUDIENCE, MONITOR_AUDIENCE];

export interface TokenClaims {
  aud: string;
  iss: string;
  oid: string;
  sub: string;
  appid: string;
  tid: string;
  /** Application permissions granted on the token's resource: Graph's app roles for Graph tokens, none otherwise. */
  roles?: string[];
  idtyp: 'app';
  iat: number;
  nbf: number;
  exp: number;
}

const b64url = (buf: Buffer | string): string => Buffer.from(buf).toString('base64url');

function sign(data: string): Buffer {
  return createHmac('sha256', SIGNING_KEY).update(data).digest();
}

/** An HS256 JWT-shaped token the simulator alone can verify. */
export function issueToken(claims: Omit<TokenClaims, 'iat' | 'nbf' | 'exp' | 'iss' | 'sub' | 'idtyp'>, lifetimeS = 3600): {
  token: string;
  expiresOn: number;
} {
  const now = Math.floor(Date.now() / 1000);
  const full: TokenClaims = {
    ...claims,
    iss: `https://sts.windows.net/${claims.tid}/`,
    sub: claims.oid,
    idtyp: 'app',
    iat: now,
    nbf: now - 5,
    exp: now + lifetimeS,
  };
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'tenant-simulator' }));
  const body = b64url(JSON.stringify(full));
  const sig = b64url(sign(`${head}.${body}`));
  return { token: `${head}.${body}.${sig}`, expiresOn: full.exp };
}

/** Verified tokens, so 10,000 calls with one token cost one HMAC. */
const verified = new Map<string, TokenClaims>();

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; message: string };

/** Strip a trailing slash and `/.default` so `https://graph.microsoft.com/.default` equals the audience. */
export function normaliseResource(resource: string): string {
  return resource.replace(/\/\.default$/, '').replace(/\/+$/, '');
}

export function verifyBearer(authorization: string | undefined, audience: string): VerifyResult {
  if (!authorization) {
    return { ok: false, message: 'Access token is empty.' };
  }
  const m = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!m?.[1]) {
    return { ok: false, message: 'Access token is empty.' };
  }
  const token = m[1];
  let claims = verified.get(token);
  if (!claims) {
    const parts = token.split('.');
    if (parts.length !== 3) {
      return { ok: false, message: 'IDX14100: JWT is not well formed, there are no dots (.).' };
    }
    const [head, body, sig] = parts as [string, string, string];
    const expected = sign(`${head}.${body}`);
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, message: 'Access token validation failure. Invalid signature.' };
    }
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { ok: false, message: 'Access token validation failure.' };
    }
    if (verified.size > 10_000) {
      verified.clear();
    }
    verified.set(token, claims);
  }
  if (claims.exp * 1000 < Date.now()) {
    return { ok: false, message: 'Lifetime validation failed, the token is expired.' };
  }
  if (normaliseResource(claims.aud).toLowerCase() !== audience) {
    return { ok: false, message: 'Access token validation failure. Invalid audience.' };
  }
  return { ok: true, claims };
}

export interface ManagedIdentityContext {
  identityHeader: string;
  tenantId: string;
  responderObjectId: string;
  responderAppId: string;
  /** Graph application permissions granted to the responder (the `grantedPermissions` knob). */
  roles: () => string[];
}

/**
 * `GET /msi/token` in the App Service form (api-version 2019-08-01, `X-IDENTITY-HEADER`), the endpoint
 * `@azure/identity` / MSAL call when `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` are set.
 */
export function handleManagedIdentity(req: SimRequest, ctx: ManagedIdentityContext): SimResponse {
  if (req.method !== 'GET') {
    return json(405, { error: 'invalid_request', error_description: 'Only GET is supported.' });
  }
  const header = req.headers['x-identity-header'];
  if (header === undefined) {
    return json(400, { error: 'invalid_request', error_description: 'The X-IDENTITY-HEADER header is required.' });
  }
  const a = Buffer.from(header);
  const b = Buffer.from(ctx.identityHeader);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    return json(401, { error: 'unauthorized_client', error_description: 'The X-IDENTITY-HEADER value is wrong.' });
  }
  const apiVersion = req.query.get('api-version');
  if (apiVersion !== '2019-08-01') {
    return json(400, {
      error: 'invalid_request',
      error_description: `api-version '${apiVersion ?? ''}' is not supported; use 2019-08-01.`,
    });
  }
  const resourceParam = req.query.get('resource');
  if (!resourceParam) {
    return json(400, { error: 'invalid_request', error_description: 'The resource parameter is required.' });
  }
  const resource = normaliseResource(resourceParam);
  if (!ISSUABLE_AUDIENCES.includes(resource.toLowerCase())) {
    return json(400, {
      error: 'invalid_resource',
      error_description: `AADSTS500011: The resource principal named ${resource} was not found in the tenant.`,
    });
  }
  const clientId = req.query.get('client_id') ?? ctx.responderAppId;
  const { token, expiresOn } = issueToken({
    aud: resource,
    oid: ctx.responderObjectId,
    appid: clientId,
    tid: ctx.tenantId,
    // Like Entra: the roles claim lists the app roles granted on the token's own resource, so Graph tokens carry the
    // Graph permissions (the app reads them back for /api/health) and ARM tokens carry none.
    ...(resource.toLowerCase() === GRAPH_AUDIENCE ? { roles: ctx.roles() } : {}),
  });
  return json(200, {
    access_token: token,
    expires_on: String(expiresOn),
    resource,
    token_type: 'Bearer',
    client_id: clientId,
  });
}
