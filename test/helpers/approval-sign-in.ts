import { LOCAL_AUTH } from '../../dev/app-env';
import { signedInPrincipal, type PrincipalCheck, type PrincipalDeps } from '../../shared/auth/signed-in-principal';

/** Someone of the demo tenant, by object id (names are for the test's reading only). */
export interface Person {
  objectId: string;
  upn: string;
  name: string;
}

/** Nobody signed in, as `signedInPrincipal` reports it. */
export const SIGNED_OUT: PrincipalCheck = { ok: false, reason: 'signed-out', detail: 'Nobody is signed in.' };

/** An ID token the tenant simulator signs for `objectId`, as Entra issues one after sign-in (at `at`, epoch ms). */
export async function mintIdToken(simUrl: string, objectId: string, opts: { at?: number; lifetimeSeconds?: number; tenantId?: string; audience?: string } = {}): Promise<string> {
  const res = await fetch(`${simUrl}/_sim/oidc/id-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ objectId, clientId: LOCAL_AUTH.clientId, ...opts }),
  });
  const body = (await res.json()) as { id_token?: string; error_description?: string };
  if (!body.id_token) {
    throw new Error(`the simulator issued no ID token for ${objectId}: ${body.error_description ?? res.status}`);
  }
  return body.id_token;
}

/** An access token the simulator signs for a workload (a playbook's managed identity) calling the app. */
export async function mintAccessToken(simUrl: string, objectId: string, opts: { audience?: string; version?: 1 | 2; appId?: string; lifetimeSeconds?: number; tenantId?: string } = {}): Promise<string> {
  const res = await fetch(`${simUrl}/_sim/oidc/access-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ objectId, audience: `api://${LOCAL_AUTH.clientId}`, ...opts }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) {
    throw new Error(`the simulator issued no access token for ${objectId}: ${body.error_description ?? res.status}`);
  }
  return body.access_token;
}

/** Request headers carrying exactly these values (case-insensitive names), as the Functions library exposes them. */
export function headersOf(values: Record<string, string>): { get(name: string): string | null } {
  const lower = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name) => lower.get(name.toLowerCase()) ?? null };
}

/**
 * `person` signed in, verified the way the app verifies every request: an ID token from the simulated tenant,
 * checked by `signedInPrincipal` against the tenant's keys at the app's current time.
 */
export async function signedInAs(app: { sim: { url: string }; deps: PrincipalDeps }, person: Pick<Person, 'objectId'>): Promise<PrincipalCheck> {
  const token = await mintIdToken(app.sim.url, person.objectId, { at: app.deps.now() });
  return signedInPrincipal(app.deps, headersOf({ 'x-ms-token-aad-id-token': token }));
}
