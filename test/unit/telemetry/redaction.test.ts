import { describe, expect, it } from 'vitest';
import { REDACTED, redactUrl } from '../../../shared/telemetry/redact-url';
import { redactSecrets } from '../../../shared/telemetry/redact-secrets';
import { logEvent } from '../../../shared/telemetry/log-event';

describe('redactUrl', () => {
  it('keeps a Graph URL\'s path and API parameters but not a paging token or a filter naming a person', () => {
    const url = 'https://graph.microsoft.com/v1.0/users?$select=id,accountEnabled&$filter=userPrincipalName%20eq%20%27dana%40contoso.com%27&$skiptoken=X%2BsecretPage&$top=20';
    const redacted = redactUrl(url);
    expect(redacted).toBe(`https://graph.microsoft.com/v1.0/users?%24select=id%2CaccountEnabled&%24filter=${REDACTED}&%24skiptoken=${REDACTED}&%24top=20`);
    expect(redacted).not.toContain('dana');
    expect(redacted).not.toContain('secretPage');
  });

  it('drops an approval link\'s token', () => {
    const token = 'eyJhcHByb3ZhbCI6IjEyMyJ9.c2lnbmF0dXJl';
    const redacted = redactUrl(`https://responders.example/api/approvals/0123456789abcdef01234567?token=${token}`);
    expect(redacted).toBe(`https://responders.example/api/approvals/0123456789abcdef01234567?token=${REDACTED}`);
    expect(redacted).not.toContain(token);
  });

  it('drops a Teams Workflows webhook\'s sig and keeps its api-version', () => {
    const sig = 'Zm9vYmFyYmF6cXV4c2VjcmV0c2lnbmF0dXJl';
    const url = `https://prod-01.westeurope.logic.azure.com:443/workflows/5f0c/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${sig}`;
    const redacted = redactUrl(url);
    expect(redacted).not.toContain(sig);
    expect(redacted).toContain('api-version=2016-06-01');
    expect(redacted).toContain(`sig=${REDACTED}`);
    expect(redacted).toContain(`sp=${REDACTED}`);
  });

  it('drops user names and passwords in the URL and the fragment', () => {
    const redacted = redactUrl('https://responder:hunter2-password@contoso.service-now.com/api/now/table/incident?sysparm_query=correlation_id%3Dx#frag');
    expect(redacted).toBe(`https://contoso.service-now.com/api/now/table/incident?sysparm_query=${REDACTED}`);
  });

  it('cuts the query off text that is not an absolute URL', () => {
    expect(redactUrl('/api/approvals/abc?token=secret')).toBe('/api/approvals/abc');
  });
});

describe('redactSecrets', () => {
  it('masks bearer and basic credentials, JWTs and secret parameters in free text', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2ln';
    const text = `Authorization: Bearer ${jwt}; Basic cmVzcG9uZGVyOnB3; link ?token=abc&sig=def&af=ghi; password=pw1`;
    const masked = redactSecrets(text);
    for (const secret of [jwt, 'cmVzcG9uZGVyOnB3', 'abc', 'def', 'ghi', 'pw1']) {
      expect(masked).not.toContain(secret);
    }
  });
});

describe('logEvent', () => {
  it('writes one JSON line with the case and approval ids first-class and secrets masked', () => {
    const lines: string[] = [];
    const sink = { info: (l: unknown) => lines.push(String(l)), warn: () => undefined, error: () => undefined };
    logEvent(sink, 'approval.link', { caseId: 'c1', approvalId: 'a1', url: 'https://x/api/approvals/a1?token=s3cr3t', skipped: undefined });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({ event: 'approval.link', caseId: 'c1', approvalId: 'a1', url: 'https://x/api/approvals/a1?token=[redacted]' });
  });
});
