import { createHmac } from 'node:crypto';
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

/** A MAC made with the key over `approval-link.v1.` + `payload`: what only the holder of the key can make. */
const macOf = (signingKey: Buffer, payload: string): string => createHmac('sha256', signingKey).update(`approval-link.v1.${payload}`, 'utf8').digest('base64url');
const encode = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');

describe('approval link tokens: the format and its edges, attacked', () => {
  const expected = { approvalId: 'apr-123', now };

  it('signs exactly the documented format, so the MAC of any other use of the key (another purpose) never passes as a link', () => {
    const token = signApprovalToken(key, claims);
    const [payload = '', signature = ''] = token.split('.');
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toEqual(claims);
    expect(signature).toBe(macOf(key, payload));
    // The same bytes MAC'd under the form purpose (or none) are refused.
    const formMac = createHmac('sha256', key).update(`approval-form.v1.${payload}`, 'utf8').digest('base64url');
    const bareMac = createHmac('sha256', key).update(payload, 'utf8').digest('base64url');
    expect(verifyApprovalToken(key, `${payload}.${formMac}`, expected)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyApprovalToken(key, `${payload}.${bareMac}`, expected)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a genuine token with a segment appended or prepended', () => {
    const token = signApprovalToken(key, claims);
    for (const edited of [`${token}.x`, `${token}.`, `x.${token}`, `${token}.${token}`]) {
      expect(verifyApprovalToken(key, edited, expected), edited.slice(-12)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('calls a token without a payload malformed, even with the MAC of an empty payload', () => {
    expect(verifyApprovalToken(key, `.${macOf(key, '')}`, expected)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses tokens longer than any it issues before looking at them, even validly signed', () => {
    const padded = encode(`${JSON.stringify(claims)}${' '.repeat(2100)}`);
    expect(verifyApprovalToken(key, `${padded}.${macOf(key, padded)}`, expected)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts a validly signed token up to 2048 characters long', () => {
    // JSON whitespace pads the payload; the token lands on exactly 2048 characters.
    const signature = macOf(key, 'x');
    const room = 2048 - 1 - signature.length;
    const json = JSON.stringify(claims);
    const payload = encode(`${json}${' '.repeat(Math.floor((room * 3) / 4) - json.length)}`);
    expect(payload.length).toBe(room);
    expect(verifyApprovalToken(key, `${payload}.${macOf(key, payload)}`, expected)).toEqual({ ok: true, claims });
  });

  it('never accepts or throws on a payload signed with the key that is not well-formed claims (an old format, a leaked key)', () => {
    const payloads = [
      encode('not json'),
      encode([claims]),
      encode({ ...claims, extra: 'claim' }),
      encode({ ...claims, nonce: '' }),
      encode({ ...claims, approvalId: '' }),
      encode({ ...claims, approvalId: 'a'.repeat(201) }),
      encode({ ...claims, nonce: 'n'.repeat(201) }),
      encode({ ...claims, expiresAt: String(claims.expiresAt) }),
      encode({ ...claims, expiresAt: -1 }),
      encode({ approvalId: 'apr-123', expiresAt: claims.expiresAt }),
      // Not canonical base64url: a character outside the alphabet, and trailing bits set.
      `${encode(claims)}+`,
      `${encode(claims).slice(0, -1)}${encode(claims).endsWith('A') ? 'B' : 'A'}`,
    ];
    for (const payload of payloads) {
      const verdict = verifyApprovalToken(key, `${payload}.${macOf(key, payload)}`, expected);
      expect(verdict.ok, payload).toBe(false);
    }
    expect(verifyApprovalToken(key, `${encode('not json')}.${macOf(key, encode('not json'))}`, expected)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyApprovalToken(key, `${encode({ ...claims, extra: 1 })}.${macOf(key, encode({ ...claims, extra: 1 }))}`, expected)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts claims at their limits: 200-character ids, a one-character nonce, expiry 0 refused as expired', () => {
    const long = { approvalId: 'a'.repeat(200), expiresAt: now + 1, nonce: 'n' };
    expect(verifyApprovalToken(key, signApprovalToken(key, long), { approvalId: long.approvalId, now })).toEqual({ ok: true, claims: long });
    const longNonce = { ...claims, nonce: 'n'.repeat(200) };
    expect(verifyApprovalToken(key, signApprovalToken(key, longNonce), expected)).toEqual({ ok: true, claims: longNonce });
    expect(verifyApprovalToken(key, signApprovalToken(key, { ...claims, expiresAt: 0 }), expected)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses to sign claims a verifier would refuse, naming the problem', () => {
    for (const bad of [{ ...claims, approvalId: 'a'.repeat(201) }, { ...claims, nonce: '' }, { ...claims, nonce: 'n'.repeat(201) }, { ...claims, expiresAt: -1 }, { ...claims, expiresAt: 1.5 }]) {
      const error = (() => {
        try {
          signApprovalToken(key, bad);
          return undefined;
        } catch (err) {
          return err;
        }
      })();
      expect(error, JSON.stringify(bad).slice(0, 60)).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'InvalidApprovalClaims', status: 500, message: 'Cannot sign an approval link: the claims are not well formed.' });
      expect((error as Error).cause).toBeDefined();
    }
  });

  it('calls a missing or non-text token malformed instead of throwing (a query parameter given twice, or none)', () => {
    for (const odd of [null, undefined, ['a', 'b'], 42, { token: 'x' }]) {
      expect(verifyApprovalToken(key, odd as unknown as string, expected), JSON.stringify(odd)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('keeps non-ASCII claims intact (UTF-8 both ways)', () => {
    const accented = { ...claims, approvalId: 'apr-é-✓' };
    expect(verifyApprovalToken(key, signApprovalToken(key, accented), { approvalId: 'apr-é-✓', now })).toEqual({ ok: true, claims: accented });
  });
});

// Mutants `npm run test:mutation` leaves alive in approval-token.ts, each equivalent (no input tells it apart):
// - `token.length === 0` made `false`: an empty token splits into one part and is malformed on the next line.
// - the `= ''` defaults of the two token parts (no coverage): the line before guarantees exactly two parts.
// - 'utf8' as '' in Buffer.from: Node takes an empty encoding as UTF-8 (the non-ASCII test above still passes).
// - parseClaims: the `bytes === undefined` return, and the catch's return: without either, the undefined reaches
//   JSON.parse inside the try, or `json` stays undefined, and the schema refuses it: still `malformed`, never a
//   throw (the non-canonical payloads above, signed with the key, go through exactly there).
