import { describe, expect, it } from 'vitest';
import { issueAntiForgeryToken, verifyAntiForgeryToken } from '../../../shared/approvals/anti-forgery';
import { issueReleaseFormToken, verifyReleaseFormToken } from '../../../shared/console/release-form-token';

const KEY = Buffer.alloc(32, 7);
const CASE = '3f2c1d0e-0000-4000-8000-000000000001';
const OTHER_CASE = '3f2c1d0e-0000-4000-8000-000000000002';
const ANA = 'c0c0a000-0000-4000-8000-000000000001';
const SAM = 'a99a0000-0000-4000-8000-000000000001';
const NOW = Date.parse('2026-12-01T10:00:00Z');

describe('the release form’s anti-forgery token', () => {
  const token = issueReleaseFormToken(KEY, CASE, ANA, NOW);

  it('passes for the case and the person it was issued to, within 30 minutes', () => {
    expect(verifyReleaseFormToken(KEY, token, CASE, ANA, NOW + 29 * 60_000)).toBe(true);
    expect(verifyReleaseFormToken(KEY, token, CASE, ANA, NOW + 31 * 60_000)).toBe(false);
  });

  it('fails for another person, another case, another key, or a tampered token', () => {
    expect(verifyReleaseFormToken(KEY, token, CASE, SAM, NOW)).toBe(false);
    expect(verifyReleaseFormToken(KEY, token, OTHER_CASE, ANA, NOW)).toBe(false);
    expect(verifyReleaseFormToken(Buffer.alloc(32, 8), token, CASE, ANA, NOW)).toBe(false);
    expect(verifyReleaseFormToken(KEY, `${token.slice(0, -2)}AA`, CASE, ANA, NOW)).toBe(false);
    expect(verifyReleaseFormToken(KEY, '', CASE, ANA, NOW)).toBe(false);
  });

  it('never passes as an approval form’s token, nor the reverse', () => {
    const approvalForm = issueAntiForgeryToken(KEY, { approvalId: 'a1b2c3d4e5f60718293a4b5c', principalId: ANA, nonce: 'bm9uY2Utbm9uY2Utbm9uY2U', now: NOW });
    expect(verifyReleaseFormToken(KEY, approvalForm, CASE, ANA, NOW)).toBe(false);
    expect(verifyAntiForgeryToken(KEY, token, { approvalId: CASE, principalId: ANA, nonce: 'case-release-form.v1', now: NOW })).toBe(false);
  });
});
