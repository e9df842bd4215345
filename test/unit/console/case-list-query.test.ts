import { describe, expect, it } from 'vitest';
import { parseCaseListQuery } from '../../../shared/console/case-list-query';
import { loadConfig } from '../../../shared/config';

describe('the case list’s filters', () => {
  it('default to every case of any age, and take what the form sends', () => {
    expect(parseCaseListQuery(new URLSearchParams(''))).toEqual({ ok: true, query: { status: 'all', since: 'any', q: '' } });
    expect(parseCaseListQuery(new URLSearchParams('status=held&since=24h&q=+Invoice+'))).toEqual({ ok: true, query: { status: 'held', since: '24h', q: 'Invoice' } });
    expect(parseCaseListQuery(new URLSearchParams('status=&since='))).toMatchObject({ ok: true, query: { status: 'all', since: 'any' } });
  });

  it('name the field of a value the form never sends', () => {
    expect(parseCaseListQuery(new URLSearchParams('status=everything'))).toMatchObject({ ok: false, problems: [{ field: 'status' }] });
    expect(parseCaseListQuery(new URLSearchParams(`q=${'x'.repeat(257)}`))).toMatchObject({ ok: false, problems: [{ field: 'q' }] });
    expect(parseCaseListQuery(new URLSearchParams('sort=oldest'))).toMatchObject({ ok: false, problems: [{ field: 'sort' }] });
  });
});

describe('the case pages’ and Teams settings', () => {
  const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

  it('read CASE_VIEWERS as object ids and refuse anything else, naming the setting', () => {
    expect(loadConfig({ ...base, CASE_VIEWERS: 'A99A0000-0000-4000-8000-000000000001; a99a6000-0000-4000-8000-000000000001' }).CASE_VIEWERS).toEqual(['a99a0000-0000-4000-8000-000000000001', 'a99a6000-0000-4000-8000-000000000001']);
    expect(loadConfig(base).CASE_VIEWERS).toEqual([]);
    expect(() => loadConfig({ ...base, CASE_VIEWERS: 'soc-team@contoso.example' })).toThrow(/CASE_VIEWERS/);
  });

  it('take TEAMS_WEBHOOK_URL over https only (its signature is a secret), and never echo it', () => {
    const url = 'https://prod.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?api-version=1&sig=c2VjcmV0';
    expect(loadConfig({ ...base, TEAMS_WEBHOOK_URL: url }).TEAMS_WEBHOOK_URL).toBe(url);
    expect(loadConfig({ ...base, TEAMS_WEBHOOK_URL: 'http://127.0.0.1:7072/powerautomate/x?sig=abc' }).TEAMS_WEBHOOK_URL).toBe('http://127.0.0.1:7072/powerautomate/x?sig=abc');
    for (const bad of ['http://flow.example/invoke?sig=c2VjcmV0', 'http://127.0.0.1.evil.example/x?sig=c2VjcmV0', 'not a url sig=c2VjcmV0']) {
      let message = '';
      try {
        loadConfig({ ...base, TEAMS_WEBHOOK_URL: bad });
      } catch (err) {
        message = err instanceof Error ? err.message : String(err);
      }
      expect(message).toContain('TEAMS_WEBHOOK_URL');
      expect(message).not.toContain('c2VjcmV0');
    }
  });
});
