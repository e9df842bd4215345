import { describe, expect, it } from 'vitest';
import { header, isAccessToken, principalOf, signedInPrincipal, type PrincipalCheck } from '../../../shared/auth/signed-in-principal';
import type { EntraClaims } from '../../../shared/auth/verify-entra-token';
import { TENANT, headersOf, useFakeIssuer } from './fake-entra-issuer';

const ADA = 'a99a0000-0000-4000-8000-000000000001';
const EVE = 'e7e00000-0000-4000-8000-000000000666';

const fake = useFakeIssuer();
const headers = headersOf;
/** The `x-ms-client-principal` header Easy Auth writes (base64 JSON), naming `oid`. */
const easyAuthPrincipal = (oid: string) =>
  Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: oid }] })).toString('base64');
const signIn = async (claims: Record<string, unknown> = {}, extra: Record<string, string> = {}): Promise<PrincipalCheck> =>
  signedInPrincipal(fake.deps, headers({ 'x-ms-token-aad-id-token': await fake.entra.sign(claims), ...extra }));

describe('signedInPrincipal: the person is who a verified ID token says', () => {
  it('accepts an ID token with a principal header naming the same person', async () => {
    expect(await signIn({}, { 'x-ms-client-principal': easyAuthPrincipal(ADA.toUpperCase()) })).toEqual({
      ok: true,
      principal: { objectId: ADA, name: 'Ada Approver', upn: 'ada@contoso.com', tenantId: TENANT },
    });
  });

  it('refuses an ID token when the principal header names someone else', async () => {
    expect(await signIn({}, { 'x-ms-client-principal': easyAuthPrincipal(EVE) })).toEqual({
      ok: false,
      reason: 'invalid-token',
      detail: 'The sign-in could not be verified: the principal header and the ID token name different people.',
    });
  });

  it('refuses a token carrying any mark of an access token, whoever it names', async () => {
    for (const claims of [{ appid: 'b1a7b00c-0000-4000-8000-0000000000a1' }, { azp: 'b1a7b00c-0000-4000-8000-0000000000a1' }, { scp: 'User.Read' }, { idtyp: 'app' }]) {
      expect(await signIn(claims), JSON.stringify(claims)).toEqual({
        ok: false,
        reason: 'invalid-token',
        detail: 'The sign-in could not be verified: the token is an access token, not an ID token.',
      });
    }
  });

  it('accepts an ID token that says it is a user’s', async () => {
    expect((await signIn({ idtyp: 'user' })).ok).toBe(true);
  });

  it('says the token could not be verified, and why', async () => {
    expect(await signIn({ exp: Math.floor(Date.now() / 1000) - 3600 })).toEqual({ ok: false, reason: 'invalid-token', detail: 'The sign-in could not be verified: the token has expired.' });
  });

  it('tells "nobody signed in" apart from "signed in without the token store"', async () => {
    expect(await signedInPrincipal(fake.deps, headers({}))).toEqual({ ok: false, reason: 'signed-out', detail: 'Nobody is signed in.' });
    expect(await signedInPrincipal(fake.deps, headers({ 'x-ms-token-aad-id-token': '   ' }))).toEqual({ ok: false, reason: 'signed-out', detail: 'Nobody is signed in.' });
    expect(await signedInPrincipal(fake.deps, headers({ 'x-ms-client-principal': easyAuthPrincipal(ADA) }))).toEqual({
      ok: false,
      reason: 'signed-out',
      detail: 'App Service Authentication passed a principal but no ID token: turn its token store on.',
    });
  });

  it('treats headers it cannot read as absent', async () => {
    const unreadable = {
      get: () => {
        throw new TypeError('invalid header value');
      },
    };
    expect(await signedInPrincipal(fake.deps, unreadable)).toMatchObject({ ok: false, reason: 'signed-out' });
    expect(header(unreadable, 'authorization')).toBeUndefined();
  });
});

describe('isAccessToken', () => {
  const base: EntraClaims = { oid: ADA, tid: TENANT };
  it('calls a token naming a client, or carrying scopes, or typed app, an access token; a bare sign-in is not one', () => {
    expect(isAccessToken(base)).toBe(false);
    expect(isAccessToken({ ...base, idtyp: 'user' })).toBe(false);
    for (const extra of [{ appid: 'x' }, { azp: 'x' }, { scp: 'x' }, { idtyp: 'app' }]) {
      expect(isAccessToken({ ...base, ...extra }), JSON.stringify(extra)).toBe(true);
    }
  });
});

describe('principalOf: names for pages and audit (never used for a decision)', () => {
  const base: EntraClaims = { oid: ADA, tid: TENANT };
  it('shows a person by name, else sign-in name, else object id', () => {
    expect(principalOf({ ...base, name: 'Ada', preferred_username: 'ada@contoso.com' })).toEqual({ objectId: ADA, name: 'Ada', upn: 'ada@contoso.com', tenantId: TENANT });
    expect(principalOf({ ...base, name: '', upn: 'ada@contoso.com' })).toEqual({ objectId: ADA, name: 'ada@contoso.com', upn: 'ada@contoso.com', tenantId: TENANT });
    expect(principalOf(base)).toStrictEqual({ objectId: ADA, name: ADA, tenantId: TENANT });
  });

  it('takes the sign-in name from preferred_username, then upn, then email, skipping empty ones', () => {
    expect(principalOf({ ...base, preferred_username: '', upn: 'ada@contoso.com', email: 'a@x.test' }).upn).toBe('ada@contoso.com');
    expect(principalOf({ ...base, email: 'a@x.test' }).upn).toBe('a@x.test');
    expect(principalOf({ ...base, upn: 42 } as unknown as EntraClaims).upn).toBeUndefined();
    expect(principalOf({ ...base, name: 42 } as unknown as EntraClaims).name).toBe(ADA);
  });
});
