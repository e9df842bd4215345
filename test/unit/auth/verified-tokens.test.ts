import { describe, expect, it } from 'vitest';
import type { EntraClaims } from '../../../shared/auth/verify-entra-token';
import { VERIFIED_TTL_MS, VerifiedTokens } from '../../../shared/auth/verified-tokens';

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);
const claims = (extra: Partial<EntraClaims> = {}): EntraClaims => ({ oid: 'a99a0000-0000-4000-8000-00000000000f', tid: 't', exp: T0 / 1000 + 3600, ...extra });

describe('VerifiedTokens', () => {
  it('keys a token by what it was verified against: another audience or issuer is another key', () => {
    const key = VerifiedTokens.keyOf('a.b.c', ['issuer', 'tenant', 'aud1']);
    expect(VerifiedTokens.keyOf('a.b.c', ['issuer', 'tenant', 'aud1'])).toBe(key);
    expect(VerifiedTokens.keyOf('a.b.c', ['issuer', 'tenant', 'aud2'])).not.toBe(key);
    expect(VerifiedTokens.keyOf('a.b.c', ['issuer2', 'tenant', 'aud1'])).not.toBe(key);
    expect(VerifiedTokens.keyOf('a.b.d', ['issuer', 'tenant', 'aud1'])).not.toBe(key);
    // The parts stay apart: moving text from the token to the context, or between audiences, is another key.
    expect(VerifiedTokens.keyOf('a.b.c', ['xy'])).not.toBe(VerifiedTokens.keyOf('a.b.cx', ['y']));
    expect(VerifiedTokens.keyOf('a.b.c', ['issuer', 'tenant', 'aud1', 'aud2'])).not.toBe(VerifiedTokens.keyOf('a.b.c', ['issuer', 'tenant', 'aud1aud2']));
    // The token never appears in its key.
    expect(key).not.toContain('a.b.c');
  });

  it(`forgets a token ${VERIFIED_TTL_MS / 60_000} minutes after it was verified, however long it is valid`, () => {
    const cache = new VerifiedTokens(120);
    cache.remember('k', claims(), T0);
    expect(cache.get('k', T0 + VERIFIED_TTL_MS - 1)).toBeDefined();
    expect(cache.get('k', T0 + VERIFIED_TTL_MS)).toBeUndefined();
    expect(cache.get('k', T0 + 1)).toBeUndefined(); // forgotten, not only hidden
  });

  it('checks expiry and not-before on every use, with the clock tolerance', () => {
    const cache = new VerifiedTokens(120);
    cache.remember('exp', claims({ exp: T0 / 1000 + 10 }), T0);
    expect(cache.get('exp', T0 + 10_000 + 119_999)).toBeDefined();
    expect(cache.get('exp', T0 + 10_000 + 120_000)).toBeUndefined();
    cache.remember('nbf', claims({ nbf: T0 / 1000 }), T0);
    expect(cache.get('nbf', T0 - 120_000)).toBeDefined();
    expect(cache.get('nbf', T0 - 120_001)).toBeUndefined();
    cache.remember('noexp', claims({ exp: undefined }), T0);
    expect(cache.get('noexp', T0)).toBeUndefined();
  });

  it('holds at most a thousand tokens, dropping the oldest', () => {
    const cache = new VerifiedTokens(120);
    for (let i = 0; i < 1_001; i++) {
      cache.remember(`k${i}`, claims(), T0);
    }
    expect(cache.get('k0', T0)).toBeUndefined();
    expect(cache.get('k1', T0)).toBeDefined();
    expect(cache.get('k1000', T0)).toBeDefined();
  });
});
