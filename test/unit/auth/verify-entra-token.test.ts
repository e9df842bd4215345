import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthSettings } from '../../../shared/auth/auth-settings';
import { verifyEntraToken, type TokenVerdict } from '../../../shared/auth/verify-entra-token';
import { UpstreamError } from '../../../shared/errors';
import { CLIENT_ID, KID, TENANT, startFakeIssuer, type FakeIssuer } from './fake-entra-issuer';

let entra: FakeIssuer;
let settings: Extract<AuthSettings, { on: true }>;

beforeAll(async () => {
  entra = await startFakeIssuer();
  settings = { on: true, clientId: CLIENT_ID, openIdIssuer: entra.openIdIssuer, tenantId: TENANT };
});
afterAll(async () => {
  await entra?.stop();
});

const verify = (token: string, now = Date.now()): Promise<TokenVerdict> => verifyEntraToken(token, { settings, audiences: [CLIENT_ID], now });
const detailOf = (v: TokenVerdict): string => (v.ok ? 'accepted' : v.detail);
const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('verifyEntraToken: what it accepts', () => {
  it('accepts a token the tenant signed for the app, lower-casing its object and tenant ids', async () => {
    const verdict = await verify(await entra.sign({ oid: 'A99A0000-0000-4000-8000-00000000000F', tid: TENANT.toUpperCase() }));
    expect(verdict.ok).toBe(true);
    expect(verdict.ok && { oid: verdict.claims.oid, tid: verdict.claims.tid, name: verdict.claims.name }).toEqual({ oid: 'a99a0000-0000-4000-8000-00000000000f', tid: TENANT, name: 'Ada Approver' });
  });

  it('accepts the v1 issuer of the same tenant, and any of the audiences asked for', async () => {
    const v1 = await entra.sign({ iss: `https://sts.windows.net/${TENANT}/`, aud: `api://${CLIENT_ID}` });
    expect((await verifyEntraToken(v1, { settings, audiences: [CLIENT_ID, `api://${CLIENT_ID}`], now: Date.now() })).ok).toBe(true);
  });

  it('tolerates two minutes of clock difference, and no more', async () => {
    const now = Date.now();
    const at = (s: number) => Math.floor(now / 1000) + s;
    expect((await verify(await entra.sign({ exp: at(-100) }), now)).ok).toBe(true);
    expect(detailOf(await verify(await entra.sign({ exp: at(-130) }), now))).toBe('the token has expired');
    expect((await verify(await entra.sign({ nbf: at(100), iat: at(100) }), now)).ok).toBe(true);
    expect(detailOf(await verify(await entra.sign({ nbf: at(130) }), now))).toBe('the token\'s "nbf" claim is not acceptable');
  });

  it('judges expiry by the time it is given, not the machine clock', async () => {
    const token = await entra.sign();
    expect(detailOf(await verify(token, Date.now() + 2 * 3_600_000))).toBe('the token has expired');
  });
});

describe('verifyEntraToken: refuses what the tenant did not sign for this app', () => {
  it('refuses a token signed by a key the tenant never published, under the tenant key id', async () => {
    expect(detailOf(await verify(await entra.sign({}, { key: entra.attackerKey })))).toBe('the token is not signed by the tenant');
  });

  it('refuses a token naming a key id the tenant does not publish', async () => {
    expect(detailOf(await verify(await entra.sign({}, { key: entra.attackerKey, kid: 'attacker-key' })))).toBe('the token is not signed by the tenant');
  });

  it('refuses a token signed with the tenant key under another algorithm, or with none', async () => {
    expect(detailOf(await verify(await entra.sign({}, { alg: 'PS256' })))).toBe('the token is malformed or uses an algorithm the app does not accept');
    const genuine = await entra.sign();
    const [, payload] = genuine.split('.');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT', kid: KID })}.${payload ?? ''}.${b64('x')}`;
    expect(detailOf(await verify(unsigned))).toBe('the token is malformed or uses an algorithm the app does not accept');
  });

  it('refuses a token the tenant key signed that marks an extension it does not understand', async () => {
    const header = JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: KID, crit: ['exp-ext'], 'exp-ext': true });
    const claims = JSON.parse(Buffer.from((await entra.sign()).split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(detailOf(await verify(entra.signRaw(header, JSON.stringify(claims))))).toBe('the token is malformed or uses an algorithm the app does not accept');
  });

  it('refuses a token the tenant key signed whose header or payload is not JSON, or whose payload is not a claims object', async () => {
    const header = JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: KID });
    for (const [h, p] of [[header, 'not json'], [header, '[1,2]'], ['not json', '{}']]) {
      expect(detailOf(await verify(entra.signRaw(h ?? '', p ?? ''))), `${h} ${p}`).toBe('the token is malformed or uses an algorithm the app does not accept');
    }
  });

  it('refuses a genuine token for another app, from another issuer, or for another tenant', async () => {
    expect(detailOf(await verify(await entra.sign({ aud: 'ffffffff-0000-4000-8000-000000000000' })))).toBe('the token\'s "aud" claim is not acceptable');
    expect(detailOf(await verify(await entra.sign({ iss: 'https://login.microsoftonline.com/common/v2.0' })))).toBe('the token\'s "iss" claim is not acceptable');
    expect(detailOf(await verify(await entra.sign({ tid: 'ffffffff-1111-4000-8000-000000000000' })))).toBe('the token was issued for another tenant');
    expect(detailOf(await verify(await entra.sign({ tid: 42 })))).toBe('the token was issued for another tenant');
  });

  it('refuses a token missing any claim it relies on', async () => {
    for (const claim of ['exp', 'iat', 'oid', 'tid']) {
      expect(detailOf(await verify(await entra.sign({ [claim]: undefined }))), claim).toBe(`the token's "${claim}" claim is not acceptable`);
    }
  });

  it('refuses a token whose object id is not a GUID', async () => {
    const oids = [42, 'not-a-guid', 'xa99a0000-0000-4000-8000-000000000001', 'a99a0000-0000-4000-8000-000000000001x', 'a99a00000-0000-4000-8000-00000000001', 'g99a0000-0000-4000-8000-000000000001', 'a99a0000-g000-4000-8000-000000000001', 'a99a0000-0000-g000-8000-000000000001', 'a99a0000-0000-4000-g000-000000000001', 'a99a0000-0000-4000-8000-g00000000001', 'a99a0000-0-4000-8000-000000000001', 'a99a0000-0000-4-8000-000000000001', 'a99a0000-0000-4000-8-000000000001', 'a99a0000-0000-4000-8000-0'];
    for (const oid of oids) {
      expect(detailOf(await verify(await entra.sign({ oid }))), String(oid)).toBe('the token carries no object id');
    }
  });

  it('refuses an object id smuggled in an array, which prints as the GUID it holds, without throwing', async () => {
    const guid = 'a99a0000-0000-4000-8000-000000000001';
    for (const oid of [[guid], [[guid]]]) {
      expect(detailOf(await verify(await entra.sign({ oid }))), JSON.stringify(oid)).toBe('the token carries no object id');
    }
  });
});

describe('verifyEntraToken: input that is not a token', () => {
  it('says "not a signed JWT" without reading the tenant keys', async () => {
    const genuine = await entra.sign();
    const before = entra.requests.length;
    for (const token of ['', 'a.b', 'a.b.c.d', 'a b.c.d', `${genuine}.`, `.${genuine}`, ` ${genuine}`, `${genuine} `, `${genuine}=`, 'a.b.']) {
      expect(detailOf(await verify(token)), token.slice(0, 12)).toBe('the token is not a signed JWT');
    }
    expect(entra.requests.length).toBe(before);
  });

  it('refuses a token over 16 KB, even one the tenant signed, and accepts one of exactly 16 KB', async () => {
    const sized = async (length: number): Promise<string> => {
      let pad = 0;
      let token = await entra.sign({ pad: '' });
      while (token.length !== length) {
        pad += Math.max(1, Math.floor(((length - token.length) * 3) / 4));
        token = await entra.sign({ pad: 'p'.repeat(pad) });
        if (token.length > length) {
          pad -= 2;
          token = await entra.sign({ pad: 'p'.repeat(pad) });
          while (token.length < length) {
            pad += 1;
            token = await entra.sign({ pad: 'p'.repeat(pad) });
          }
          break;
        }
      }
      return token;
    };
    const exact = await sized(16 * 1024);
    expect(exact.length).toBe(16 * 1024);
    expect((await verify(exact)).ok).toBe(true);
    const over = await entra.sign({ pad: 'p'.repeat(13_000) });
    expect(over.length).toBeGreaterThan(16 * 1024);
    expect(detailOf(await verify(over))).toBe('the token is not a signed JWT');
  });
});

describe('verifyEntraToken: a key service that fails is not a verdict', () => {
  it('throws a transient error when the key set cannot be read', async () => {
    const broken = await startFakeIssuer();
    broken.keysStatus = 500;
    try {
      const token = await broken.sign();
      const error = await verifyEntraToken(token, { settings: { ...settings, openIdIssuer: broken.openIdIssuer }, audiences: [CLIENT_ID], now: Date.now() }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ transient: true, httpStatus: 503, message: expect.stringContaining(`signing keys of ${broken.openIdIssuer} could not be read`) as string });
    } finally {
      await broken.stop();
    }
  });

  it('refuses, as a verdict, a token without key id when several published keys could have signed it', async () => {
    // A tenant of its own, so its key set is read for the first time with both keys in it.
    const rotating = await startFakeIssuer();
    try {
      const next = await generateKeyPair('RS256', { extractable: true });
      rotating.publish({ ...(await exportJWK(next.publicKey)), kid: 'tenant-key-2', use: 'sig' });
      const noKid = await new SignJWT({ aud: CLIENT_ID, iss: rotating.issuer, tid: TENANT, oid: 'a99a0000-0000-4000-8000-000000000001' })
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(rotating.attackerKey);
      const verdict = await verifyEntraToken(noKid, { settings: { ...settings, openIdIssuer: rotating.openIdIssuer }, audiences: [CLIENT_ID], now: Date.now() });
      expect(detailOf(verdict)).toBe('the token is malformed or uses an algorithm the app does not accept');
    } finally {
      await rotating.stop();
    }
  });
});

describe('verifyEntraToken: a token verified once is remembered, never beyond what it was verified for', () => {
  it('still expires on time: a token accepted once is refused after its expiry', async () => {
    const now = Date.now();
    const token = await entra.sign({ exp: Math.floor(now / 1000) + 60 });
    expect((await verify(token, now)).ok).toBe(true);
    expect((await verify(token, now + 30_000)).ok).toBe(true);
    // exp + 2 minutes' tolerance + 1 s
    expect(detailOf(await verify(token, now + 60_000 + 121_000))).toBe('the token has expired');
  });

  it('is not valid before its not-before time, even after it was accepted at a later time', async () => {
    const now = Date.now();
    const token = await entra.sign({ nbf: Math.floor(now / 1000), iat: Math.floor(now / 1000) });
    expect((await verify(token, now)).ok).toBe(true);
    expect((await verify(token, now - 200_000)).ok).toBe(false);
  });

  it('does not pass for another audience: a token accepted for the app is refused where another audience is asked for', async () => {
    const token = await entra.sign();
    expect((await verify(token)).ok).toBe(true);
    const other = await verifyEntraToken(token, { settings, audiences: ['00000000-0000-4000-8000-0000000000aa'], now: Date.now() });
    expect(detailOf(other)).toBe('the token\'s "aud" claim is not acceptable');
  });

  it('does not pass for another tenant or issuer: the same token under other settings is verified afresh', async () => {
    const token = await entra.sign();
    expect((await verify(token)).ok).toBe(true);
    const otherTenant = { ...settings, tenantId: '7e570000-0000-4000-8000-0000000000ff' };
    expect(detailOf(await verifyEntraToken(token, { settings: otherTenant, audiences: [CLIENT_ID], now: Date.now() }))).toBe('the token was issued for another tenant');
  });

  it('hands each caller its own copy of the claims', async () => {
    const token = await entra.sign();
    const first = await verify(token);
    if (first.ok) {
      first.claims.oid = '00000000-0000-4000-8000-00000000beef';
    }
    const second = await verify(token);
    expect(second.ok && second.claims.oid).not.toBe('00000000-0000-4000-8000-00000000beef');
  });
});
