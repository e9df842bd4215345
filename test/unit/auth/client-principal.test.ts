import { describe, expect, it } from 'vitest';
import { parseClientPrincipal } from '../../../shared/auth/client-principal';

const OID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

function headersWith(value: string | null): { get(name: string): string | null } {
  return { get: (name: string) => (name.toLowerCase() === 'x-ms-client-principal' ? value : null) };
}

function encode(body: unknown): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}

const easyAuthBody = {
  auth_typ: 'aad',
  name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  claims: [
    { typ: OID, val: 'AAAAAAAA-1111-2222-3333-BBBBBBBBBBBB' },
    { typ: 'http://schemas.microsoft.com/identity/claims/tenantid', val: 'CCCCCCCC-1111-2222-3333-DDDDDDDDDDDD' },
    { typ: 'name', val: 'Ada Lovelace' },
    { typ: 'preferred_username', val: 'ada@contoso.example' },
    { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'Responder.Approver' },
    { typ: 'roles', val: 'Responder.Approver' },
  ],
};

describe('parseClientPrincipal', () => {
  it('reads the Easy Auth principal, lower-casing the object id', () => {
    expect(parseClientPrincipal(headersWith(encode(easyAuthBody)))).toEqual({
      objectId: 'aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb',
      name: 'Ada Lovelace',
      upn: 'ada@contoso.example',
      tenantId: 'cccccccc-1111-2222-3333-dddddddddddd',
      identityProvider: 'aad',
      roles: ['Responder.Approver'],
    });
  });

  it('accepts the short oid claim and falls back to the name_typ claim for name and upn', () => {
    const principal = parseClientPrincipal(
      headersWith(
        encode({
          auth_typ: 'aad',
          name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
          claims: [
            { typ: 'oid', val: '12345678-1234-1234-1234-123456789abc' },
            { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', val: 'bob@contoso.example' },
          ],
        }),
      ),
    );
    expect(principal).toMatchObject({
      objectId: '12345678-1234-1234-1234-123456789abc',
      name: 'bob@contoso.example',
      upn: 'bob@contoso.example',
      roles: [],
    });
  });

  it('skips odd claims instead of refusing the whole principal', () => {
    const body = { ...easyAuthBody, claims: [42, { typ: 'name' }, ...easyAuthBody.claims] };
    expect(parseClientPrincipal(headersWith(encode(body)))?.objectId).toBe('aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb');
  });

  it('returns undefined when there is no header', () => {
    expect(parseClientPrincipal(headersWith(null))).toBeUndefined();
    expect(parseClientPrincipal(headersWith(''))).toBeUndefined();
  });

  it('returns undefined for bad base64 or bad JSON', () => {
    expect(parseClientPrincipal(headersWith('%%%not base64%%%'))).toBeUndefined();
    expect(parseClientPrincipal(headersWith(Buffer.from('{not json').toString('base64')))).toBeUndefined();
    expect(parseClientPrincipal(headersWith(encode('a string')))).toBeUndefined();
    expect(parseClientPrincipal(headersWith(encode({ claims: 'nope', auth_typ: 'aad' })))).toBeUndefined();
    expect(parseClientPrincipal(headersWith(encode(null)))).toBeUndefined();
  });

  it('returns undefined without an object id claim', () => {
    const body = { ...easyAuthBody, claims: easyAuthBody.claims.filter((c) => c.typ !== OID) };
    expect(parseClientPrincipal(headersWith(encode(body)))).toBeUndefined();
  });

  it('returns undefined when the object id is not a GUID', () => {
    for (const val of ['not-a-guid', '', '12345678-1234-1234-1234-123456789abcX', ' ']) {
      const body = { auth_typ: 'aad', claims: [{ typ: 'oid', val }] };
      expect(parseClientPrincipal(headersWith(encode(body)))).toBeUndefined();
    }
  });

  it('returns undefined when reading headers throws', () => {
    const throwing = {
      get(): string | null {
        throw new Error('boom');
      },
    };
    expect(parseClientPrincipal(throwing)).toBeUndefined();
  });

  it('works with a real Headers object', () => {
    const headers = new Headers({ 'X-MS-CLIENT-PRINCIPAL': encode(easyAuthBody) });
    expect(parseClientPrincipal(headers)?.name).toBe('Ada Lovelace');
  });
});
