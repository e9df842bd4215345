import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../dev/simulator/start-simulator';
import { startSimulator } from '../../dev/simulator/start-simulator';

const ENV_KEYS = ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'MSI_ENDPOINT', 'MSI_SECRET', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_FEDERATED_TOKEN_FILE', 'IMDS_ENDPOINT'] as const;

function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('simulator managed identity', () => {
  let sim: Simulator;
  const saved: Partial<Record<(typeof ENV_KEYS)[number], string | undefined>> = {};

  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(async () => {
    await sim.stop();
  });
  beforeEach(() => {
    for (const k of ENV_KEYS) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    process.env.IDENTITY_ENDPOINT = sim.identityEndpoint;
    process.env.IDENTITY_HEADER = sim.identityHeader;
  });
  afterEach(() => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = saved[k];
      }
    }
  });

  it('gives ManagedIdentityCredential a Graph token the simulator accepts', async () => {
    const token = await new ManagedIdentityCredential().getToken('https://graph.microsoft.com/.default');
    expect(token.token.split('.')).toHaveLength(3);
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 50 * 60_000);
    const claims = claimsOf(token.token);
    expect(claims.aud).toBe('https://graph.microsoft.com');
    expect(claims.oid).toBe(sim.state.responder.objectId);
    expect(claims.tid).toBe(sim.state.tenantId);
    const res = await fetch(`${sim.url}/v1.0/servicePrincipals?$top=1`, { headers: { authorization: `Bearer ${token.token}` } });
    expect(res.status).toBe(200);
  });

  it('gives DefaultAzureCredential an ARM token through the same endpoint', async () => {
    const token = await new DefaultAzureCredential().getToken('https://management.azure.com/.default');
    expect(claimsOf(token.token).aud).toBe('https://management.azure.com');
    const msiCalls = sim.calls.filter((c) => c.service === 'msi' && c.status === 200);
    expect(msiCalls.length).toBeGreaterThan(0);
  });

  it('refuses a token request without the identity header', async () => {
    const res = await fetch(`${sim.identityEndpoint}?resource=https://graph.microsoft.com&api-version=2019-08-01`);
    expect(res.status).toBe(400);
    const wrong = await fetch(`${sim.identityEndpoint}?resource=https://graph.microsoft.com&api-version=2019-08-01`, {
      headers: { 'X-IDENTITY-HEADER': 'nope' },
    });
    expect(wrong.status).toBe(401);
  });

  it('answers 401 with Graph error body when the bearer token is missing or for another audience', async () => {
    const none = await fetch(`${sim.url}/v1.0/servicePrincipals`);
    expect(none.status).toBe(401);
    const body = (await none.json()) as { error: { code: string; innerError: Record<string, string> } };
    expect(body.error.code).toBe('InvalidAuthenticationToken');
    expect(body.error.innerError['request-id']).toBe(none.headers.get('request-id'));
    const armToken = await new ManagedIdentityCredential().getToken('https://management.azure.com/.default');
    const wrongAud = await fetch(`${sim.url}/v1.0/servicePrincipals`, { headers: { authorization: `Bearer ${armToken.token}` } });
    expect(wrongAud.status).toBe(401);
  });
});
