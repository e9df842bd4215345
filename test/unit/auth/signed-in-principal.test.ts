import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AUTH } from '../../../dev/app-env';
import { DEMO } from '../../../dev/simulator/demo-ids';
import { startSimulator, type Simulator } from '../../../dev/simulator/start-simulator';
import { loadConfig, type Config } from '../../../shared/config';
import { UpstreamError } from '../../../shared/errors';
import { callerPrincipal } from '../../../shared/auth/caller-principal';
import { signedInPrincipal, type PrincipalCheck } from '../../../shared/auth/signed-in-principal';
import { headersOf, mintAccessToken, mintIdToken } from '../../helpers/approval-sign-in';

let sim: Simulator;
let config: Config;
const now = () => Date.now();
const APPROVER = DEMO.approvers[0];

/** The settings App Service sets with its Authentication module on, pointing at the simulated tenant. */
function authConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    WEBSITE_AUTH_ENABLED: 'True',
    WEBSITE_AUTH_CLIENT_ID: LOCAL_AUTH.clientId,
    WEBSITE_AUTH_OPENID_ISSUER: sim.openIdIssuer,
    ...overrides,
  });
}

const idTokenHeaders = (token: string, extra: Record<string, string> = {}) => headersOf({ 'x-ms-token-aad-id-token': token, ...extra });
const forgedPrincipal = (oid: string) => Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: oid }] })).toString('base64');
const reasonOf = (check: PrincipalCheck) => (check.ok ? 'ok' : check.reason);

/** A token with the claims Entra would sign, signed by a key the tenant never published (an attacker's). */
async function selfSigned(claims: Record<string, unknown>, kid: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey);
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

beforeAll(async () => {
  sim = await startSimulator();
  config = authConfig();
});
afterAll(async () => {
  await sim?.stop();
});

describe('signedInPrincipal: the approver is who a verified ID token says', () => {
  it('takes the object id, name and sign-in name from an ID token the tenant signed', async () => {
    const check = await signedInPrincipal({ config, now }, idTokenHeaders(await mintIdToken(sim.url, APPROVER)));
    expect(check).toEqual({ ok: true, principal: { objectId: APPROVER, name: expect.any(String) as string, upn: DEMO.approverUpns[0], tenantId: DEMO.tenantId } });
  });

  it('trusts nobody while App Service Authentication is off or not fully described, whatever the request carries', async () => {
    const token = await mintIdToken(sim.url, APPROVER);
    const headers = idTokenHeaders(token, { 'x-ms-client-principal': forgedPrincipal(APPROVER), 'x-ms-client-principal-id': APPROVER });
    const cases: [Record<string, string>, RegExp][] = [
      [{ WEBSITE_AUTH_ENABLED: '' }, /WEBSITE_AUTH_ENABLED/],
      [{ WEBSITE_AUTH_ENABLED: 'False' }, /WEBSITE_AUTH_ENABLED/],
      [{ WEBSITE_AUTH_CLIENT_ID: '' }, /WEBSITE_AUTH_CLIENT_ID/],
      [{ WEBSITE_AUTH_OPENID_ISSUER: '' }, /WEBSITE_AUTH_OPENID_ISSUER/],
      [{ WEBSITE_AUTH_OPENID_ISSUER: 'https://login.microsoftonline.com/common/v2.0' }, /names no tenant id/],
    ];
    for (const [overrides, detail] of cases) {
      const check = await signedInPrincipal({ config: authConfig(overrides), now }, headers);
      expect(check).toMatchObject({ ok: false, reason: 'auth-off' });
      expect(check.ok ? '' : check.detail).toMatch(detail);
    }
  });

  it('lets a forged x-ms-client-principal header decide nothing: without an ID token nobody is signed in', async () => {
    const check = await signedInPrincipal({ config, now }, headersOf({ 'x-ms-client-principal': forgedPrincipal(APPROVER), 'x-ms-client-principal-id': APPROVER }));
    expect(check).toMatchObject({ ok: false, reason: 'signed-out', detail: expect.stringContaining('token store') as string });
  });

  it('refuses an ID token signed by anyone but the tenant, even with the tenant key id and genuine claims', async () => {
    const genuine = await mintIdToken(sim.url, APPROVER);
    const forged = await selfSigned(claimsOf(genuine), decodeProtectedHeader(genuine).kid ?? '');
    expect(reasonOf(await signedInPrincipal({ config, now }, idTokenHeaders(forged)))).toBe('invalid-token');
    // Signature swapped in from another genuine token, and an unsigned (alg none) copy.
    const other = await mintIdToken(sim.url, DEMO.approvers[1]);
    const spliced = `${genuine.split('.').slice(0, 2).join('.')}.${other.split('.')[2] ?? ''}`;
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${genuine.split('.')[1] ?? ''}.`;
    const hs256 = await new SignJWT(claimsOf(genuine)).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(JSON.stringify((await (await fetch(`${sim.openIdIssuer.replace('/v2.0', '')}/discovery/v2.0/keys`)).json()) as unknown)));
    for (const token of [spliced, none, hs256, 'not-a-jwt', 'a.b.c']) {
      expect(reasonOf(await signedInPrincipal({ config, now }, idTokenHeaders(token))), token.slice(0, 20)).toBe('invalid-token');
    }
  });

  it('refuses a genuine token issued for another app, another tenant, or that has expired', async () => {
    const wrongAudience = await mintIdToken(sim.url, APPROVER, { audience: 'ffffffff-0000-4000-8000-000000000000' });
    const otherTenant = await mintIdToken(sim.url, APPROVER, { tenantId: 'ffffffff-1111-4000-8000-000000000000' });
    const expired = await mintIdToken(sim.url, APPROVER, { lifetimeSeconds: -600 });
    const checks = await Promise.all([wrongAudience, otherTenant, expired].map((t) => signedInPrincipal({ config, now }, idTokenHeaders(t))));
    expect(checks.map(reasonOf)).toEqual(['invalid-token', 'invalid-token', 'invalid-token']);
    expect(checks[0]?.ok === false && checks[0].detail).toMatch(/"aud"/);
    expect(checks[1]?.ok === false && checks[1].detail).toMatch(/"iss"/);
    expect(checks[2]?.ok === false && checks[2].detail).toMatch(/expired/);
  });

  it('refuses a token whose principal header names someone else, and an access token passed off as a sign-in', async () => {
    const token = await mintIdToken(sim.url, DEMO.human);
    const mixed = await signedInPrincipal({ config, now }, idTokenHeaders(token, { 'x-ms-client-principal': forgedPrincipal(APPROVER) }));
    expect(mixed).toMatchObject({ ok: false, reason: 'invalid-token', detail: expect.stringContaining('different people') as string });
    const workload = await mintAccessToken(sim.url, APPROVER, { audience: LOCAL_AUTH.clientId });
    expect(await signedInPrincipal({ config, now }, idTokenHeaders(workload))).toMatchObject({ ok: false, reason: 'invalid-token', detail: expect.stringContaining('access token') as string });
  });

  it('answers "try again" (a transient error), not "invalid", when the tenant keys cannot be read', async () => {
    const unreachable = authConfig({ WEBSITE_AUTH_OPENID_ISSUER: `http://127.0.0.1:9/${DEMO.tenantId}/v2.0` });
    const error = await signedInPrincipal({ config: unreachable, now }, idTokenHeaders(await mintIdToken(sim.url, APPROVER))).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).transient).toBe(true);
  });
});

describe('callerPrincipal: the intake caller is who a verified access token says', () => {
  it('accepts v1 and v2 access tokens for api://<client id> or the bare client id, and takes the caller from oid', async () => {
    const playbook = LOCAL_AUTH.playbook.objectId;
    for (const opts of [{ version: 1 as const }, { version: 2 as const }, { version: 1 as const, audience: LOCAL_AUTH.clientId }, { version: 2 as const, audience: LOCAL_AUTH.clientId }]) {
      const token = await mintAccessToken(sim.url, playbook, { appId: LOCAL_AUTH.playbook.appId, ...opts });
      const check = await callerPrincipal({ config, now }, headersOf({ authorization: `Bearer ${token}` }));
      expect(check, JSON.stringify(opts)).toEqual({ ok: true, principal: { objectId: playbook, name: `application ${LOCAL_AUTH.playbook.appId}`, tenantId: DEMO.tenantId } });
    }
  });

  it('refuses forged, foreign, mistargeted, expired and ID tokens, and reports a missing token or auth off as such', async () => {
    const playbook = LOCAL_AUTH.playbook.objectId;
    const genuine = await mintAccessToken(sim.url, playbook);
    const bad = [
      await selfSigned(claimsOf(genuine), decodeProtectedHeader(genuine).kid ?? ''),
      await mintAccessToken(sim.url, playbook, { audience: 'https://graph.microsoft.com' }),
      await mintAccessToken(sim.url, playbook, { tenantId: 'ffffffff-1111-4000-8000-000000000000' }),
      await mintAccessToken(sim.url, playbook, { lifetimeSeconds: -600 }),
      await mintIdToken(sim.url, APPROVER),
    ];
    for (const token of bad) {
      expect(reasonOf(await callerPrincipal({ config, now }, headersOf({ authorization: `Bearer ${token}` })))).toBe('invalid-token');
    }
    const forgedHeader = headersOf({ 'x-ms-client-principal': forgedPrincipal(playbook) });
    expect(reasonOf(await callerPrincipal({ config, now }, forgedHeader))).toBe('signed-out');
    expect(reasonOf(await callerPrincipal({ config: authConfig({ WEBSITE_AUTH_ENABLED: 'false' }), now }, headersOf({ authorization: `Bearer ${genuine}` })))).toBe('auth-off');
  });
});

// Mutant `npm run test:mutation` leaves alive in signed-in-principal.ts, equivalent: header()'s catch emptied leaves
// `value` unassigned (undefined), so a header that cannot be read is still absent.
