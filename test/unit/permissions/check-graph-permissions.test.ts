import type { AccessToken, TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { checkGraphPermissions, compareGraphRoles } from '../../../shared/permissions/check-graph-permissions';
import { FEATURE_PERMISSIONS } from '../../../shared/permissions/graph-permission-table';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const tokenWith = (claims: Record<string, unknown>) => `${b64({ alg: 'none' })}.${b64(claims)}.sig`;

function credentialReturning(result: () => Promise<AccessToken | null>): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    getToken: (s) => {
      scopes.push(...(Array.isArray(s) ? s : [s]));
      return result();
    },
  };
}

describe('checkGraphPermissions', () => {
  it('names each enabled feature whose permission the token lacks, and only those', async () => {
    const roles = FEATURE_PERMISSIONS.containment.filter((p) => p !== 'AgentIdentity.EnableDisable.All');
    const credential = credentialReturning(() => Promise.resolve({ token: tokenWith({ roles }), expiresOnTimestamp: Date.now() + 3_600_000 }));
    const report = await checkGraphPermissions(credential, ['containment', 'mail']);
    expect(credential.scopes).toEqual(['https://graph.microsoft.com/.default']);
    expect(report.status).toBe('missing');
    expect(report.missing).toEqual([
      { feature: 'containment', permissions: ['AgentIdentity.EnableDisable.All'] },
      { feature: 'mail', permissions: ['Mail.Send'] },
    ]);
  });

  it('reports ok when every enabled feature is granted', async () => {
    const roles = [...FEATURE_PERMISSIONS.containment, ...FEATURE_PERMISSIONS.lifecycle];
    const credential = credentialReturning(() => Promise.resolve({ token: tokenWith({ roles }), expiresOnTimestamp: Date.now() + 3_600_000 }));
    expect(await checkGraphPermissions(credential, ['containment', 'lifecycle'])).toEqual({ status: 'ok', missing: [], classicServicePrincipals: 'none' });
  });

  it('treats a token without a roles claim as holding no permission', async () => {
    const credential = credentialReturning(() => Promise.resolve({ token: tokenWith({ oid: 'x' }), expiresOnTimestamp: Date.now() + 3_600_000 }));
    const report = await checkGraphPermissions(credential, ['mail']);
    expect(report.missing).toEqual([{ feature: 'mail', permissions: ['Mail.Send'] }]);
  });

  it('says unknown, not missing, when no token can be had (a failure is not a verdict)', async () => {
    const credential = credentialReturning(() => Promise.reject(new Error('ManagedIdentityCredential: connect ECONNREFUSED')));
    const report = await checkGraphPermissions(credential, ['containment']);
    expect(report.status).toBe('unknown');
    expect(report.missing).toEqual([]);
    expect(report.detail).toContain('ECONNREFUSED');
  });

  it('does not accept a broader permission granted by hand as the one the script grants', () => {
    // Directory.ReadWrite.All would also allow the reads, but the report names what the grant script would grant.
    expect(compareGraphRoles(['mail'], ['Mail.ReadWrite']).missing).toEqual([{ feature: 'mail', permissions: ['Mail.Send'] }]);
  });

  it('tells which classic service principals the responder can disable', () => {
    expect(compareGraphRoles([], ['Application.ReadWrite.All']).classicServicePrincipals).toBe('any');
    expect(compareGraphRoles([], ['Application.ReadWrite.OwnedBy']).classicServicePrincipals).toBe('owned');
    expect(compareGraphRoles([], ['Application.Read.All']).classicServicePrincipals).toBe('none');
  });
});
