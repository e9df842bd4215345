import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config';
import { ConfigError, UpstreamError, ValidationError } from '../../../shared/errors';
import { alertQuery, readAlert } from '../../../shared/sentinel/log-analytics-client';

/** Any UTF-16 code unit: control characters, quotes, lone surrogates included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

const WS = '9d0f3b6a-0000-4000-8000-0000000000a1';
const ALERT = 'dddddddd-0000-4000-8000-000000000004';
const columns = ['SystemAlertId', 'TimeGenerated', 'TenantId', 'Status', 'AlertSeverity', 'DisplayName', 'Entities'].map((name) => ({ name }));
const row = (over: Partial<Record<string, unknown>> = {}) =>
  columns.map((c) => ({ SystemAlertId: ALERT, TimeGenerated: '2026-11-20T09:00:00Z', TenantId: WS, Status: 'New', AlertSeverity: 'High', DisplayName: 'A', Entities: '[{"Type":"account","AadUserId":"x"}]', ...over })[c.name]);

describe('alertQuery', () => {
  it('reads the latest row of one alert by its SystemAlertId', () => {
    expect(alertQuery(ALERT)).toBe(`SecurityAlert | where SystemAlertId == '${ALERT}' | summarize arg_max(TimeGenerated, *) by SystemAlertId`);
  });

  it('refuses, before any request, an id that could end the string literal or escape from it', () => {
    for (const id of ["x' or 1==1 //", "x'", 'x\\', "'; SecurityAlert | take 100", 'x"y', 'x\ny', 'x y', '', 'ａ', `x${'\u2019'}`, 'x'.repeat(257)]) {
      expect(() => alertQuery(id), JSON.stringify(id)).toThrow(ValidationError);
    }
  });

  it('never produces a query whose literal holds anything but the id (property: any accepted id is inert)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: anyCodeUnit, maxLength: 80 }), fc.string({ unit: 'grapheme-ascii', maxLength: 80 })), (id) => {
        let query: string;
        try {
          query = alertQuery(id);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          return;
        }
        expect(query).toBe(`SecurityAlert | where SystemAlertId == '${id}' | summarize arg_max(TimeGenerated, *) by SystemAlertId`);
        expect(id).toMatch(/^[A-Za-z0-9_.:-]+$/);
      }),
    );
  });
});

describe('readAlert', () => {
  it('returns status and entities (parsed from the JSON string) of the latest row', () => {
    const lookup = readAlert({ tables: [{ name: 'PrimaryResult', columns, rows: [row(), row({ TimeGenerated: '2026-11-21T09:00:00Z', Status: 'Dismissed', Entities: '[]' })] }] }, WS, ALERT);
    expect(lookup).toEqual({
      found: true,
      alert: expect.objectContaining({ systemAlertId: ALERT, workspaceId: WS, status: 'Dismissed', entities: [], timeGenerated: '2026-11-21T09:00:00Z' }) as unknown,
    });
  });

  it('says not found only for an empty answer', () => {
    expect(readAlert({ tables: [{ name: 'PrimaryResult', columns, rows: [] }] }, WS, ALERT)).toEqual({ found: false });
  });

  it('never takes a partial failure for "not found": it is transient', () => {
    const err = (() => {
      try {
        readAlert({ tables: [{ name: 'PrimaryResult', columns, rows: [] }], error: { code: 'PartialError', message: 'Query timed out' } }, WS, ALERT);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ transient: true, upstreamCode: 'PartialError' });
  });

  it('does not let a row about another alert or another workspace vouch for this one', () => {
    expect(() => readAlert({ tables: [{ columns, rows: [row({ SystemAlertId: 'aaaaaaaa-0000-4000-8000-000000000001' })] }] }, WS, ALERT)).toThrow(/another alert or workspace/);
    expect(() => readAlert({ tables: [{ columns, rows: [row({ TenantId: '00000000-0000-4000-8000-000000000000' })] }] }, WS, ALERT)).toThrow(/another alert or workspace/);
  });

  it('refuses an answer without a table, or with entities that are not a JSON list of objects', () => {
    expect(() => readAlert({}, WS, ALERT)).toThrow(/no result table/);
    for (const entities of ['not json', '{"Type":"account"}', '[1,2]', '[[]]']) {
      expect(() => readAlert({ tables: [{ columns, rows: [row({ Entities: entities })] }] }, WS, ALERT), entities).toThrow(/Entities column/);
    }
  });
});

describe('LOG_ANALYTICS_ENDPOINT', () => {
  const storage = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

  it('defaults to the public query API and drops a trailing slash', () => {
    expect(loadConfig(storage).LOG_ANALYTICS_ENDPOINT).toBe('https://api.loganalytics.io');
    expect(loadConfig({ ...storage, LOG_ANALYTICS_ENDPOINT: 'https://api.loganalytics.us/' }).LOG_ANALYTICS_ENDPOINT).toBe('https://api.loganalytics.us');
  });

  it('names the setting when it is not an http(s) URL', () => {
    const err = (() => {
      try {
        loadConfig({ ...storage, LOG_ANALYTICS_ENDPOINT: 'ftp://example' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).fields.map((f) => f.field)).toEqual(['LOG_ANALYTICS_ENDPOINT']);
  });
});
