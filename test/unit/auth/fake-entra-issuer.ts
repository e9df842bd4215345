import { createSign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import type { PrincipalDeps } from '../../../shared/auth/signed-in-principal';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload, type KeyLike } from 'jose';

export const TENANT = '7e570000-0000-4000-8000-000000000001';
export const CLIENT_ID = 'c11e0000-0000-4000-8000-00000000a991';
export const KID = 'tenant-key-1';

/**
 * A stand-in for Entra's OpenID metadata, over real HTTP on loopback: the configuration document and a key set
 * holding the tenant's signing key. Much lighter than the tenant simulator, so the token checks can run for
 * every mutant of `npm run test:mutation`. `keysStatus` makes the key set answer an error instead.
 */
export interface FakeIssuer {
  /** `WEBSITE_AUTH_OPENID_ISSUER` for this tenant (v2). */
  openIdIssuer: string;
  /** The `iss` of v2 tokens. */
  issuer: string;
  /** Signs `claims` (merged over a valid ID token's) with the tenant key, or `opts.key` / `opts.kid` / `opts.alg`. */
  sign(claims?: JWTPayload, opts?: { key?: KeyLike; kid?: string | null; alg?: string; header?: Record<string, unknown> }): Promise<string>;
  /** RS256 over exactly these header and payload texts, with the tenant key: for shapes jose would not sign. */
  signRaw(header: string, payload: string): string;
  /** A key pair the tenant never published: an attacker's. */
  attackerKey: KeyLike;
  /** Adds another published key (to have several match a token without `kid`). */
  publish(jwk: JWK): void;
  keysStatus: number;
  /** Requests served, by path. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startFakeIssuer(): Promise<FakeIssuer> {
  const tenant = await generateKeyPair('RS256', { extractable: true });
  const attacker = await generateKeyPair('RS256', { extractable: true });
  const keys: JWK[] = [{ ...(await exportJWK(tenant.publicKey)), kid: KID, use: 'sig' }];
  const requests: string[] = [];
  let base = '';
  const state = { keysStatus: 200 };
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    requests.push(path);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === `/${TENANT}/v2.0/.well-known/openid-configuration`) {
      send(200, { issuer: `${base}/${TENANT}/v2.0`, jwks_uri: `${base}/${TENANT}/discovery/v2.0/keys` });
    } else if (path === `/${TENANT}/discovery/v2.0/keys`) {
      send(state.keysStatus, state.keysStatus === 200 ? { keys } : { error: 'unavailable' });
    } else {
      send(404, { error: 'not found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/${TENANT}/v2.0`;
  return {
    openIdIssuer: issuer,
    issuer,
    attackerKey: attacker.privateKey,
    publish: (jwk) => keys.push(jwk),
    get keysStatus() {
      return state.keysStatus;
    },
    set keysStatus(status: number) {
      state.keysStatus = status;
    },
    requests,
    async sign(claims = {}, opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      const header: Record<string, unknown> = { alg: opts.alg ?? 'RS256', typ: 'JWT', ...(opts.kid === null ? {} : { kid: opts.kid ?? KID }), ...opts.header };
      const payload: JWTPayload = { aud: CLIENT_ID, iss: issuer, iat: now, nbf: now, exp: now + 3600, tid: TENANT, oid: 'a99a0000-0000-4000-8000-000000000001', name: 'Ada Approver', preferred_username: 'ada@contoso.com', ...claims };
      for (const [k, v] of Object.entries(payload)) {
        if (v === undefined) {
          delete payload[k];
        }
      }
      return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(opts.key ?? tenant.privateKey);
    },
    signRaw(header, payload) {
      const data = `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
      return `${data}.${createSign('RSA-SHA256').update(data).sign(tenant.privateKey as KeyObject).toString('base64url')}`;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The issuer for the tests of one file: started before them, stopped after, with the principal checks' settings
 * trusting it as App Service Authentication would (Easy Auth on, the app's client id, the tenant's v2 issuer).
 */
export function useFakeIssuer(): { readonly entra: FakeIssuer; readonly deps: PrincipalDeps } {
  const state = {} as { entra: FakeIssuer; deps: PrincipalDeps };
  beforeAll(async () => {
    state.entra = await startFakeIssuer();
    state.deps = { config: { WEBSITE_AUTH_ENABLED: true, WEBSITE_AUTH_CLIENT_ID: CLIENT_ID, WEBSITE_AUTH_OPENID_ISSUER: state.entra.openIdIssuer }, now: Date.now };
  });
  afterAll(async () => {
    await state.entra?.stop();
  });
  return state;
}

/** Request headers as the Functions host hands them over: looked up by name in any letter case. */
export const headersOf = (values: Record<string, string>) => ({ get: (name: string) => values[name.toLowerCase()] ?? null });
