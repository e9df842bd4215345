import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';

/**
 * Development-only stand-in for App Service Authentication ("Easy Auth") with its token store on: a user picker
 * instead of Entra sign-in, then on every request the headers the platform injects in front of the app:
 * `x-ms-client-principal*` and `X-MS-TOKEN-AAD-ID-TOKEN`, an ID token signed by the tenant simulator (the app
 * verifies it as it verifies Entra's). Client-sent copies of those headers are removed, and a request carrying a
 * bearer token is let through only when the token is valid for the app (else 401, as Easy Auth answers).
 * Never deployed: it lives in the local host, and the host only enables it with `LOCAL_DEV_EASY_AUTH=true`.
 */
export const devUserSchema = z.object({ id: z.string().min(1), upn: z.string().min(1), name: z.string().min(1) });
export type DevUser = z.infer<typeof devUserSchema>;

const COOKIE = 'dev_auth';
const CLAIM_OID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
/** Headers only the platform may set: removed from every incoming request before Easy Auth adds its own. */
const PLATFORM_HEADER = /^(x-ms-client-principal|x-ms-token-)/i;

export type IncomingHeaders = { ok: true; headers: Record<string, string> } | { ok: false; status: 401; message: string };

export interface DevEasyAuth {
  /** Serves `/.auth/*`; returns false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): boolean;
  /** The headers the app sees for this request, or the 401 Easy Auth answers for an invalid bearer token. */
  incomingHeaders(req: IncomingMessage): Promise<IncomingHeaders>;
}

/** Variables App Service (Functions included) sets on every instance; none is set on a developer's machine. */
const APP_SERVICE_MARKERS = ['WEBSITE_INSTANCE_ID', 'WEBSITE_SITE_NAME', 'WEBSITE_HOSTNAME'];

interface Session {
  user: DevUser;
  idToken: string | undefined;
}

export function createDevEasyAuth(env: NodeJS.ProcessEnv): DevEasyAuth {
  // Belt and braces: `dev/` is never deployed (.funcignore), but should someone run the local host on App
  // Service anyway, a picker that lets anyone be anyone must not come up there.
  const marker = APP_SERVICE_MARKERS.find((name) => env[name]);
  if (marker) {
    throw new Error(`LOCAL_DEV_EASY_AUTH is for local development only and refuses to start on App Service (${marker} is set).`);
  }
  const users = parseUsers(env['LOCAL_DEV_USERS']);
  // A per-process key: restarting the host signs everybody out, which is fine for development.
  const key = env['LOCAL_DEV_AUTH_SECRET'] ? Buffer.from(env['LOCAL_DEV_AUTH_SECRET']) : randomBytes(32);
  const tokens = tokenSource(env);
  // The token store: session id → who and their ID token, as Easy Auth keeps them server-side.
  const sessions = new Map<string, Session>();

  const sign = (sessionId: string): string => `${sessionId}.${createHmac('sha256', key).update(sessionId).digest('base64url')}`;
  const currentSession = (req: IncomingMessage): Session | undefined => {
    const [sessionId, signature] = (readCookie(req.headers.cookie, COOKIE) ?? '').split('.');
    if (!sessionId || !signature) {
      return undefined;
    }
    const expected = Buffer.from(createHmac('sha256', key).update(sessionId).digest('base64url'));
    const actual = Buffer.from(signature);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      return undefined;
    }
    return sessions.get(sessionId);
  };

  const signIn = async (res: ServerResponse, user: DevUser, target: string): Promise<void> => {
    const sessionId = randomBytes(18).toString('base64url');
    sessions.set(sessionId, { user, idToken: await tokens?.idToken(user.id) });
    res.setHeader('Set-Cookie', `${COOKIE}=${sign(sessionId)}; Path=/; HttpOnly; SameSite=Lax`);
    redirect(res, target);
  };

  return {
    async incomingHeaders(req) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && !PLATFORM_HEADER.test(name)) {
          headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
      }
      const bearer = /^Bearer\s+(\S+)$/i.exec(headers['authorization'] ?? '')?.[1];
      if (bearer !== undefined) {
        const claims = tokens ? await tokens.verifyBearer(bearer) : undefined;
        if (!claims) {
          return { ok: false, status: 401, message: 'The bearer token is not valid for this app.' };
        }
        const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
        const oid = text(claims['oid']) ?? '';
        const name = text(claims['appid']) ?? text(claims['azp']) ?? oid;
        return { ok: true, headers: { ...headers, ...principalHeaders({ id: oid, upn: name, name }) } };
      }
      const session = currentSession(req);
      if (!session) {
        return { ok: true, headers };
      }
      return {
        ok: true,
        headers: {
          ...headers,
          ...principalHeaders(session.user),
          ...(session.idToken === undefined ? {} : { 'x-ms-token-aad-id-token': session.idToken }),
        },
      };
    },

    handle(req, res, url, body) {
      const path = url.pathname.toLowerCase().replace(/\/+$/, '');
      const method = req.method ?? 'GET';
      if (!path.startsWith('/.auth')) {
        return false;
      }
      if (path === '/.auth/login/aad' || (path === '/.auth/login/dev' && method === 'GET')) {
        if (path === '/.auth/login/aad') {
          // Apps link to the real provider; send them to the picker with the same redirect.
          redirect(res, `/.auth/login/dev${url.search}`);
          return true;
        }
        const target = safeRedirect(url.searchParams.get('post_login_redirect_uri'));
        send(res, 200, 'text/html; charset=utf-8', loginPage(users, target));
        return true;
      }
      if (path === '/.auth/login/dev' && method === 'POST') {
        const form = parseForm(req.headers['content-type'], body);
        const user = users.find((u) => u.id === form['userId']);
        if (!user) {
          send(res, 400, 'text/plain; charset=utf-8', 'Unknown userId');
          return true;
        }
        const target = safeRedirect(form['post_login_redirect_uri'] ?? url.searchParams.get('post_login_redirect_uri'));
        signIn(res, user, target).catch((err: unknown) => {
          send(res, 502, 'text/plain; charset=utf-8', `Sign-in failed: the tenant simulator issued no ID token (${err instanceof Error ? err.message : String(err)})`);
        });
        return true;
      }
      if (path === '/.auth/me') {
        const session = currentSession(req);
        if (!session) {
          send(res, 401, 'application/json', '[]');
          return true;
        }
        const me = [{ provider_name: 'aad', user_id: session.user.upn, user_claims: claimsOf(session.user), ...(session.idToken ? { id_token: session.idToken } : {}) }];
        send(res, 200, 'application/json', JSON.stringify(me));
        return true;
      }
      if (path === '/.auth/logout') {
        const [sessionId] = (readCookie(req.headers.cookie, COOKIE) ?? '').split('.');
        if (sessionId) {
          sessions.delete(sessionId);
        }
        res.setHeader('Set-Cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
        redirect(res, safeRedirect(url.searchParams.get('post_logout_redirect_uri')));
        return true;
      }
      send(res, 404, 'text/plain; charset=utf-8', 'Not Found');
      return true;
    },
  };
}

/** The `x-ms-client-principal*` headers Easy Auth writes for a signed-in person or a verified caller. */
function principalHeaders(user: DevUser): Record<string, string> {
  const principal = { auth_typ: 'aad', claims: claimsOf(user), name_typ: 'preferred_username', role_typ: 'roles' };
  return {
    'x-ms-client-principal': Buffer.from(JSON.stringify(principal), 'utf8').toString('base64'),
    'x-ms-client-principal-id': user.id,
    'x-ms-client-principal-name': user.upn,
    'x-ms-client-principal-idp': 'aad',
  };
}

interface TokenSource {
  /** An ID token for the user, as Entra issues it after sign-in (minted by the tenant simulator). */
  idToken(objectId: string): Promise<string>;
  /** The claims of a bearer token valid for the app, or undefined. */
  verifyBearer(token: string): Promise<JWTPayload | undefined>;
}

/**
 * Tokens from the tenant the app trusts (`WEBSITE_AUTH_OPENID_ISSUER`, the simulator locally). Without those
 * settings there is no token store: the app then sees no ID token and trusts nobody, as in Azure.
 */
function tokenSource(env: NodeJS.ProcessEnv): TokenSource | undefined {
  const issuer = env['WEBSITE_AUTH_OPENID_ISSUER'];
  const clientId = env['WEBSITE_AUTH_CLIENT_ID'];
  if (!issuer || !clientId || env['WEBSITE_AUTH_ENABLED']?.toLowerCase() !== 'true') {
    return undefined;
  }
  const origin = new URL(issuer).origin;
  const tenantId = new URL(issuer).pathname.split('/')[1] ?? '';
  const keys = createRemoteJWKSet(new URL(`${origin}/${tenantId}/discovery/v2.0/keys`));
  return {
    async idToken(objectId) {
      const res = await fetch(`${origin}/_sim/oidc/id-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ objectId, clientId }),
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await res.json()) as { id_token?: string; error_description?: string };
      if (!res.ok || !body.id_token) {
        throw new Error(body.error_description ?? `HTTP ${res.status}`);
      }
      return body.id_token;
    },
    async verifyBearer(token) {
      try {
        const { payload } = await jwtVerify(token, keys, {
          algorithms: ['RS256'],
          issuer: [issuer, `https://sts.windows.net/${tenantId}/`],
          audience: [clientId, `api://${clientId}`],
        });
        return payload;
      } catch {
        return undefined;
      }
    },
  };
}

function parseUsers(raw: string | undefined): DevUser[] {
  if (!raw) {
    return [];
  }
  const parsed = z.array(devUserSchema).safeParse(JSON.parse(raw));
  if (!parsed.success) {
    throw new Error(`LOCAL_DEV_USERS must be a JSON array of {id, upn, name}: ${parsed.error.message}`);
  }
  return parsed.data;
}

function claimsOf(user: DevUser): { typ: string; val: string }[] {
  return [
    { typ: CLAIM_OID, val: user.id },
    { typ: 'preferred_username', val: user.upn },
    { typ: 'name', val: user.name },
  ];
}

/** Only same-origin paths, so the login page cannot be used as an open redirector. */
function safeRedirect(target: string | null | undefined): string {
  if (!target || !target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) {
    return '/';
  }
  return target;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) {
      return v.join('=');
    }
  }
  return undefined;
}

function parseForm(contentType: string | undefined, body: Buffer): Record<string, string> {
  const text = body.toString('utf8');
  if (contentType?.includes('application/json')) {
    const parsed = z.record(z.string(), z.string()).safeParse(JSON.parse(text || '{}'));
    return parsed.success ? parsed.data : {};
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 302;
  res.setHeader('Location', location);
  res.end();
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.end(body);
}

function loginPage(users: DevUser[], target: string): string {
  const rows = users
    .map(
      (u) => `<li><form method="post" action="/.auth/login/dev">
  <input type="hidden" name="userId" value="${escapeHtml(u.id)}">
  <input type="hidden" name="post_login_redirect_uri" value="${escapeHtml(target)}">
  <button type="submit" data-user-id="${escapeHtml(u.id)}">${escapeHtml(u.name)} (${escapeHtml(u.upn)})</button>
</form></li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in (local development)</title></head>
<body><h1>Sign in (local development)</h1>
<p>Development-only sign-in. In Azure, App Service Authentication signs users in with Microsoft Entra ID.</p>
<ul>${rows || '<li>No users: set LOCAL_DEV_USERS.</li>'}</ul></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
