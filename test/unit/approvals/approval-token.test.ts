import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newNonce, signApprovalToken, verifyApprovalToken } from '../../../shared/approvals/approval-token';
import { AppError } from '../../../shared/errors';

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 8);
const now = Date.UTC(2025, 5, 1, 12, 0, 0);
const claims = { approvalId: 'apr-123', expiresAt: now + 60_000, nonce: 'n0nce-AAAAAAAAAAAAAAAAAA' };

/** Replaces one character of `text` at `index` with a different base64url character. */
function flip(text: string, index: number): string {
  const ch = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + ch + text.slice(index + 1);
}

describe('approval link tokens', () => {
  it('verifies a token it signed and returns the claims', () => {
    const token = signApprovalToken(key, claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyApprovalToken(key, token, { approvalId: 'apr-123', now })).toEqual({ ok: true, claims });
  });

  it('refuses a token whose payload was edited, character by character', () => {
    const token = signApprovalToken(key, claims);
    const [payload = '', signature = ''] = token.split('.');
    for (let i = 0; i < payload.length; i += 1) {
      const result = verifyApprovalToken(key, `${flip(payload, i)}.${signature}`, { approvalId: 'apr-123', now });
      expect(result.ok).toBe(false);
    }
  });

  it('refuses a token whose signature was edited, including its last character', () => {
    const token = signApprovalToken(key, claims);
    const [payload = '', signature = ''] = token.split('.');
    for (let i = 0; i < signature.length; i += 1) {
      const result = verifyApprovalToken(key, `${payload}.${flip(signature, i)}`, { approvalId: 'apr-123', now });
      expect(result.ok).toBe(false);
    }
    // A shorter (40-character, 30-byte) signature takes the length-mismatch path of the constant-time compare.
    expect(verifyApprovalToken(key, `${payload}.${signature.slice(0, -3)}`, { approvalId: 'apr-123', now })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses a payload re-signed with a forged expiry', () => {
    const token = signApprovalToken(key, claims);
    const [, signature = ''] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, expiresAt: now + 10 ** 10 })).toString('base64url');
    expect(verifyApprovalToken(key, `${forged}.${signature}`, { approvalId: 'apr-123', now })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses a token signed with another key', () => {
    const token = signApprovalToken(otherKey, claims);
    expect(verifyApprovalToken(key, token, { approvalId: 'apr-123', now })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a token for another approval', () => {
    const token = signApprovalToken(key, claims);
    expect(verifyApprovalToken(key, token, { approvalId: 'apr-999', now })).toEqual({ ok: false, reason: 'wrong-approval' });
  });

  it('refuses a token at and after its expiry', () => {
    const token = signApprovalToken(key, claims);
    expect(verifyApprovalToken(key, token, { approvalId: 'apr-123', now: claims.expiresAt - 1 }).ok).toBe(true);
    expect(verifyApprovalToken(key, token, { approvalId: 'apr-123', now: claims.expiresAt })).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(verifyApprovalToken(key, token, { approvalId: 'apr-123', now: claims.expiresAt + 86_400_000 })).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('calls structurally broken tokens malformed', () => {
    for (const garbage of ['', '.', 'abc', 'a.b.c', '.abc', 'abc.', 'a b.c', 'x'.repeat(5000), 'ab.c$d']) {
      expect(verifyApprovalToken(key, garbage, { approvalId: 'apr-123', now })).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('never throws and never accepts random strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (garbage) => {
        expect(verifyApprovalToken(key, garbage, { approvalId: 'apr-123', now }).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,80}\.[A-Za-z0-9_-]{1,60}$/), (garbage) => {
        expect(verifyApprovalToken(key, garbage, { approvalId: 'apr-123', now }).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to sign with a short key or malformed claims', () => {
    expect(() => signApprovalToken(Buffer.alloc(16), claims)).toThrow(AppError);
    expect(() => signApprovalToken(key, { ...claims, approvalId: '' })).toThrow(AppError);
    expect(() => signApprovalToken(key, { ...claims, expiresAt: Number.NaN })).toThrow(AppError);
  });

  it('makes 128-bit nonces that differ each time', () => {
    const nonces = new Set(Array.from({ length: 100 }, () => newNonce()));
    expect(nonces.size).toBe(100);
    for (const nonce of nonces) {
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(nonce, 'base64url')).toHaveLength(16);
    }
  });
});
