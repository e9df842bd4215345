import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';

/**
 * Development-only stand-in for App Service Authentication ("Easy Auth"): a user picker instead of Entra sign-in,
 * and the same `x-ms-client-principal*` headers the platform injects in front of the app. Never deployed: it lives
 * in the local host, and the host only enables it with `LOCAL_DEV_EASY_AUTH=true`.
 */
export const devUserSchema = z.object({ id: z.string().min(1), upn: z.string().min(1), name: z.string().min(1) });
export type DevUser = z.infer<typeof devUserSchema>;

const COOKIE = 'dev_auth';
const CLAIM_OID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

export interface DevEasyAuth {
  /** Serves `/.auth/*`; returns false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): boolean;
  /** The principal headers for a request with a valid session cookie, else undefined. */
  principalHeaders(req: IncomingMessage): Record<string, string> | undefined;
}

/** Variables App Service (Functions included) sets on every instance; none is set on a developer's machine. */
const APP_SERVICE_MARKERS = ['WEBSITE_INSTANCE_ID', 'WEBSITE_SITE_NAME', 'WEBSITE_HOSTNAME'];

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

  const sign = (userId: string): string => {
    const payload = Buffer.from(userId, 'utf8').toString('base64url');
    return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
  };
  const verify = (value: string): DevUser | undefined => {
    const [payload, signature] = value.split('.');
    if (!payload || !signature) {
      return undefined;
    }
    const expected = Buffer.from(createHmac('sha256', key).update(payload).digest('base64url'));
    const actual = Buffer.from(signature);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      return undefined;
    }
    const id = Buffer.from(payload, 'base64url').toString('utf8');
    return users.find((u) => u.id === id);
  };
  const currentUser = (req: IncomingMessage): DevUser | undefined => {
    const cookie = readCookie(req.headers.cookie, COOKIE);
    return cookie ? verify(cookie) : undefined;
  };

  return {
    principalHeaders(req) {
      const user = currentUser(req);
      if (!user) {
        return undefined;
      }
      const principal = {
        auth_typ: 'aad',
        claims: claimsOf(user),
        name_typ: 'preferred_username',
        role_typ: 'roles',
      };
      return {
        'x-ms-client-principal': Buffer.from(JSON.stringify(principal), 'utf8').toString('base64'),
        'x-ms-client-principal-id': user.id,
        'x-ms-client-principal-name': user.upn,
        'x-ms-client-principal-idp': 'aad',
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
        res.setHeader('Set-Cookie', `${COOKIE}=${sign(user.id)}; Path=/; HttpOnly; SameSite=Lax`);
        redirect(res, target);
        return true;
      }
      if (path === '/.auth/me') {
        const user = currentUser(req);
        if (!user) {
          send(res, 401, 'application/json', '[]');
          return true;
        }
        const me = [{ provider_name: 'aad', user_id: user.upn, user_claims: claimsOf(user) }];
        send(res, 200, 'application/json', JSON.stringify(me));
        return true;
      }
      if (path === '/.auth/logout') {
        res.setHeader('Set-Cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
        redirect(res, safeRedirect(url.searchParams.get('post_logout_redirect_uri')));
        return true;
      }
      send(res, 404, 'text/plain; charset=utf-8', 'Not Found');
      return true;
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
