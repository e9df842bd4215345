import { describe, expect, it } from 'vitest';
import { LINK_COOKIE, linkCookie, linkTokenOf } from '../../../shared/approvals/approval-link-cookie';

const approval = { id: '0123456789abcdef01234567', expiresAt: Date.parse('2026-12-02T00:00:00Z') };

describe('the cookie that carries a link token across sign-in', () => {
  it('is HttpOnly, SameSite=Lax, scoped to the approval, Secure behind https, and never outlives the link', () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(linkCookie({ PUBLIC_BASE_URL: 'https://responders.example' }, approval, 'a.b', now)).toEqual({
      name: LINK_COOKIE,
      value: 'a.b',
      path: `/api/approvals/${approval.id}`,
      maxAge: 900,
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
    });
    expect(linkCookie({ PUBLIC_BASE_URL: 'http://localhost:7071' }, approval, 'a.b', now).secure).toBe(false);
    expect(linkCookie({ PUBLIC_BASE_URL: undefined }, approval, 'a.b', approval.expiresAt - 60_000).maxAge).toBe(60);
    expect(linkCookie({ PUBLIC_BASE_URL: undefined }, approval, 'a.b', approval.expiresAt + 1).maxAge).toBe(0);
  });

  it('reads the token from the link first, then from the cookie, and ignores other or broken cookies', () => {
    const url = (q = '') => new URL(`https://responders.example/api/approvals/${approval.id}${q}`);
    expect(linkTokenOf(url('?token=from.link'), `${LINK_COOKIE}=from.cookie`)).toBe('from.link');
    expect(linkTokenOf(url(), `other=1; ${LINK_COOKIE}=from.cookie; x=2`)).toBe('from.cookie');
    expect(linkTokenOf(url(), `not_${LINK_COOKIE}=x`)).toBeUndefined();
    expect(linkTokenOf(url(), `${LINK_COOKIE}=%E0%A4%A`)).toBeUndefined();
    expect(linkTokenOf(url(), null)).toBeUndefined();
  });
});
