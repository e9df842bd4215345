import { createHmac } from 'node:crypto';
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

/** The documented MAC: HMAC-SHA256(key, 'approval-form.v1.' + JSON([approvalId, principalId, nonce, issuedAt])). */
const formMac = (signingKey: Buffer, issuedAt: number, b = binding): string =>
  createHmac('sha256', signingKey).update(`approval-form.v1.${JSON.stringify([b.approvalId, b.principalId, b.nonce, issuedAt])}`, 'utf8').digest('base64url');

describe('anti-forgery tokens: the format and its edges, attacked', () => {
  it('issues exactly the documented format, so a MAC made with the key for another purpose never passes', () => {
    const token = issueAntiForgeryToken(key, binding);
    expect(token).toBe(`${now}.${formMac(key, now)}`);
    const linkPurpose = createHmac('sha256', key).update(`approval-link.v1.${JSON.stringify([binding.approvalId, binding.principalId, binding.nonce, now])}`, 'utf8').digest('base64url');
    const noPurpose = createHmac('sha256', key).update(JSON.stringify([binding.approvalId, binding.principalId, binding.nonce, now]), 'utf8').digest('base64url');
    expect(verifyAntiForgeryToken(key, `${now}.${linkPurpose}`, binding)).toBe(false);
    expect(verifyAntiForgeryToken(key, `${now}.${noPurpose}`, binding)).toBe(false);
  });

  it('issues a usable token when the clock reads fractional milliseconds', () => {
    const token = issueAntiForgeryToken(key, { ...binding, now: now + 0.75 });
    expect(token).toBe(`${now}.${formMac(key, now)}`);
    expect(verifyAntiForgeryToken(key, token, { ...binding, now: now + 1.5 })).toBe(true);
  });

  it('refuses a genuine token with anything before or after it', () => {
    const token = issueAntiForgeryToken(key, binding);
    for (const edited of [`x${token}`, ` ${token}`, `0.${token}`, `${token}.`, `${token}!`, `${token} `, `${token}\n`]) {
      expect(verifyAntiForgeryToken(key, edited, binding), JSON.stringify(edited.slice(0, 4) + edited.slice(-4))).toBe(false);
    }
  });

  it('accepts a token from an instance whose clock runs up to a minute ahead, and no further', () => {
    expect(verifyAntiForgeryToken(key, issueAntiForgeryToken(key, { ...binding, now: now + 60_000 }), binding)).toBe(true);
    expect(verifyAntiForgeryToken(key, issueAntiForgeryToken(key, { ...binding, now: now + 60_001 }), binding)).toBe(false);
  });

  it('keeps a form usable for exactly 30 minutes', () => {
    expect(ANTI_FORGERY_TTL_MS).toBe(30 * 60 * 1000);
    const token = issueAntiForgeryToken(key, binding);
    expect(verifyAntiForgeryToken(key, token, { ...binding, now: now + 29 * 60_000 })).toBe(true);
    expect(verifyAntiForgeryToken(key, token, { ...binding, now: now + 30 * 60_000 })).toBe(false);
  });

  it('refuses a validly MACed token whose time is not a safe integer', () => {
    const issuedAt = 9_999_999_999_999_999; // 16 digits, above Number.MAX_SAFE_INTEGER: it would round
    expect(verifyAntiForgeryToken(key, `${issuedAt}.${formMac(key, issuedAt)}`, { ...binding, now: issuedAt })).toBe(false);
  });

  it('refuses a MAC that is not canonical base64url, even one that decodes to the right bytes', () => {
    const mac = formMac(key, now);
    // The last character of a 32-byte MAC carries 2 unused bits: setting them decodes to the same bytes.
    const last = mac.slice(-1);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) + 1] ?? 'A';
    expect(Buffer.from(`${mac.slice(0, -1)}${sibling}`, 'base64url')).toEqual(Buffer.from(mac, 'base64url'));
    expect(verifyAntiForgeryToken(key, `${now}.${mac.slice(0, -1)}${sibling}`, binding)).toBe(false);
  });

  it('refuses, without throwing, a token that is not text (a form field given twice arrives as a list)', () => {
    const token = issueAntiForgeryToken(key, binding);
    for (const odd of [null, undefined, 42, [token]]) {
      expect(verifyAntiForgeryToken(key, odd as unknown as string, binding), JSON.stringify(odd)).toBe(false);
    }
  });
});

// Mutants `npm run test:mutation` leaves alive in anti-forgery.ts, each equivalent (no input tells it apart):
// - the 200-character cap made `false` or `>= 200`: a genuine token is at most 16 digits, a dot and 43 MAC
//   characters, so any token near the cap fails the MAC anyway. The cap only bounds the work done on hostile input.
// - `match[2] ?? ''` (no coverage): the regular expression always captures group 2.
