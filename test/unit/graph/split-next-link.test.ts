import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../../shared/errors';
import { splitNextLink } from '../../../shared/graph/graph-client';

describe('splitNextLink', () => {
  it("splits Graph's own links into version, path and query", () => {
    expect(splitNextLink('https://graph.microsoft.com', 'https://graph.microsoft.com/v1.0/servicePrincipals/microsoft.graph.agentIdentity?$top=100&$skiptoken=RFNwdAIA')).toEqual({
      version: 'v1.0',
      path: '/servicePrincipals/microsoft.graph.agentIdentity',
      query: '?$top=100&$skiptoken=RFNwdAIA',
    });
    expect(splitNextLink('http://127.0.0.1:5000/', 'http://127.0.0.1:5000/beta/identityProtection/riskyAgents?$skiptoken=2').version).toBe('beta');
  });

  it('refuses a link to another host or scheme, which must never receive the token', () => {
    for (const link of ['https://graph.evil.example/v1.0/users', 'http://graph.microsoft.com/v1.0/users', 'https://graph.microsoft.com.evil.example/v1.0/users', 'https://graph.microsoft.com/']) {
      expect(() => splitNextLink('https://graph.microsoft.com', link)).toThrow(UpstreamError);
    }
  });
});
