import type { Config } from '../config';
import type { ApprovalEntity } from './approval-entity';
import type { PageCookie } from './approval-page';

/** Name of the cookie that carries an approval link's token across the sign-in round trip. */
export const LINK_COOKIE = 'approval_link';
/** Long enough to sign in (MFA included), short enough not to linger. */
const LINK_COOKIE_MAX_AGE_S = 15 * 60;

/**
 * The cookie that keeps a link's token while its holder signs in: scoped to this approval's path, HttpOnly,
 * SameSite=Lax (sent on the top-level navigation back from the sign-in), Secure behind https. The token never
 * expires later than the link itself.
 */
export function linkCookie(config: Pick<Config, 'PUBLIC_BASE_URL'>, approval: Pick<ApprovalEntity, 'id' | 'expiresAt'>, token: string, now: number): PageCookie {
  const maxAge = Math.max(0, Math.min(LINK_COOKIE_MAX_AGE_S, Math.floor((approval.expiresAt - now) / 1000)));
  return {
    name: LINK_COOKIE,
    value: encodeURIComponent(token),
    path: `/api/approvals/${approval.id}`,
    maxAge,
    httpOnly: true,
    secure: config.PUBLIC_BASE_URL?.startsWith('https:') ?? false,
    sameSite: 'Lax',
  };
}

/**
 * The link token of a request: from the link's `?token=` or, after the sign-in round trip, from the cookie
 * {@link linkCookie} set. The query wins when both are present.
 */
export function linkTokenOf(url: URL, cookieHeader: string | null): string | undefined {
  const fromQuery = url.searchParams.get('token');
  if (fromQuery) {
    return fromQuery;
  }
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === LINK_COOKIE) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim()) || undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
