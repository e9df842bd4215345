import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANTI_FORGERY_TTL_MS, issueAntiForgeryToken, verifyAntiForgeryToken } from '../../../shared/approvals/anti-forgery';
import { signApprovalToken } from '../../../shared/approvals/approval-token';

const key = Buffer.alloc(32, 3);
const now = Date.UTC(2025, 5, 1, 12, 0, 0);
const binding = { approvalId: 'apr-1', principalId: '11111111-1111-1111-1111-111111111111', nonce: 'link-nonce', now };

describe('anti-forgery tokens', () => {
  it('accepts a token for the same approval, principal and link nonce within 30 minutes', () => {
    const token = issueAntiForgeryToken(key, binding);
    expect(verifyAntiForgeryToken(key, token, binding)).toBe(true);
    expect(verifyAntiForgeryToken(key, token, { ...binding, now: now + ANTI_FORGERY_TTL_MS - 1 })).toBe(true);
  });

  it('refuses it once 30 minutes have passed', () => {
    const token = issueAntiForgeryToken(key, binding);
    expect(verifyAntiForgeryToken(key, token, { ...binding, now: now + ANTI_FORGERY_TTL_MS })).toBe(false);
  });

  it('refuses a token dated well into the future', () => {
    const token = issueAntiForgeryToken(key, { ...binding, now: now + 10 * 60_000 });
    expect(verifyAntiForgeryToken(key, token, binding)).toBe(false);
  });

  it('is bound to the signed-in principal, the approval and the link nonce', () => {
    const token = issueAntiForgeryToken(key, binding);
    expect(verifyAntiForgeryToken(key, token, { ...binding, principalId: '22222222-2222-2222-2222-222222222222' })).toBe(false);
    expect(verifyAntiForgeryToken(key, token, { ...binding, approvalId: 'apr-2' })).toBe(false);
    expect(verifyAntiForgeryToken(key, token, { ...binding, nonce: 'other-nonce' })).toBe(false);
    expect(verifyAntiForgeryToken(Buffer.alloc(32, 4), token, binding)).toBe(false);
  });

  it('refuses a re-dated token', () => {
    const token = issueAntiForgeryToken(key, binding);
    const [, mac = ''] = token.split('.');
    expect(verifyAntiForgeryToken(key, `${now + 1}.${mac}`, binding)).toBe(false);
  });

  it('does not accept a link token as a form token', () => {
    const link = signApprovalToken(key, { approvalId: 'apr-1', expiresAt: now + 1000, nonce: 'link-nonce' });
    expect(verifyAntiForgeryToken(key, link, binding)).toBe(false);
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (garbage) => {
        expect(verifyAntiForgeryToken(key, garbage, binding)).toBe(false);
      }),
      { numRuns: 500 },
    );
    for (const garbage of ['', '.', '1.', '.abc', '99999999999999999.abc', `${now}.${'A'.repeat(500)}`]) {
      expect(verifyAntiForgeryToken(key, garbage, binding)).toBe(false);
    }
  });
});
