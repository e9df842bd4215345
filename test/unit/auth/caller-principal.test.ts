import { describe, expect, it } from 'vitest';
import { callerPrincipal } from '../../../shared/auth/caller-principal';
import type { PrincipalCheck } from '../../../shared/auth/signed-in-principal';
import { CLIENT_ID, TENANT, headersOf, useFakeIssuer } from './fake-entra-issuer';

const PLAYBOOK = 'b1a7b00c-0000-4000-8000-000000000001';
const PLAYBOOK_APP = 'b1a7b00c-0000-4000-8000-0000000000a1';

const fake = useFakeIssuer();
const headers = headersOf;
/** A managed identity's access token: no name, its app id in `appid` (v1) or `azp` (v2), roles. */
const workload = (claims: Record<string, unknown> = {}) =>
  fake.entra.sign({ aud: `api://${CLIENT_ID}`, oid: PLAYBOOK, appid: PLAYBOOK_APP, idtyp: 'app', roles: ['Alerts.Submit'], name: undefined, preferred_username: undefined, ...claims });
const call = (authorization: string): Promise<PrincipalCheck> => callerPrincipal(fake.deps, headers({ authorization }));

describe('callerPrincipal: the intake caller is who a verified access token says', () => {
  it('names a managed identity by its application id, from appid (v1) or azp (v2)', async () => {
    for (const claims of [{}, { appid: undefined, azp: PLAYBOOK_APP }]) {
      expect(await call(`Bearer ${await workload(claims)}`), JSON.stringify(claims)).toEqual({
        ok: true,
        principal: { objectId: PLAYBOOK, name: `application ${PLAYBOOK_APP}`, tenantId: TENANT },
      });
    }
  });

  it('keeps the name a token carries, and falls back to the object id when it names no application', async () => {
    const named = await call(`Bearer ${await workload({ name: 'Sentinel playbook' })}`);
    expect(named.ok && named.principal.name).toBe('Sentinel playbook');
    const anonymous = await call(`Bearer ${await workload({ appid: undefined, scp: 'Alerts.Submit' })}`);
    expect(anonymous.ok && anonymous.principal.name).toBe(PLAYBOOK);
  });

  it('takes the token after "Bearer" in any letter case and spacing, and nothing else', async () => {
    const token = await workload();
    for (const value of [`bearer ${token}`, `BEARER   ${token}`, `Bearer\t${token}`, `  Bearer ${token}  `]) {
      expect((await call(value)).ok, JSON.stringify(value.slice(0, 10))).toBe(true);
    }
    for (const value of [`xBearer ${token}`, `Bearer ${token} ${token}`, `Bearer`, `Basic ${token}`, token]) {
      expect(await call(value), value.slice(0, 10)).toEqual({ ok: false, reason: 'signed-out', detail: 'The request carries no bearer token.' });
    }
  });

  it('reports a missing Authorization header as signed out', async () => {
    expect(await callerPrincipal(fake.deps, headers({}))).toEqual({ ok: false, reason: 'signed-out', detail: 'The request carries no bearer token.' });
  });

  it('refuses a token it cannot verify, saying why', async () => {
    const verdict = await call(`Bearer ${await workload({ aud: 'https://graph.microsoft.com' })}`);
    expect(verdict).toEqual({ ok: false, reason: 'invalid-token', detail: 'The caller\'s token could not be verified: the token\'s "aud" claim is not acceptable.' });
  });

  it('refuses a person’s ID token: a sign-in to the app is not a workload allowed to call it', async () => {
    const idToken = await fake.entra.sign();
    expect(await call(`Bearer ${idToken}`)).toEqual({
      ok: false,
      reason: 'invalid-token',
      detail: "The caller's token could not be verified: it is an ID token, not an access token.",
    });
  });

  it('trusts no caller while App Service Authentication is off', async () => {
    const off = { ...fake.deps, config: { ...fake.deps.config, WEBSITE_AUTH_ENABLED: false } };
    expect(await callerPrincipal(off, headers({ authorization: `Bearer ${await workload()}` }))).toMatchObject({ ok: false, reason: 'auth-off' });
  });
});

// Mutant `npm run test:mutation` leaves alive in caller-principal.ts, equivalent: the `?? ''` fallback for a missing
// Authorization header replaced by another text that is not "Bearer <token>" still yields no bearer (signed-out).
