import type { TokenCredential } from '@azure/identity';
import { UpstreamError, ValidationError } from '../errors';
import { bearerHeaders } from '../net/bearer-headers';
import { CALL_ATTEMPT_TIMEOUT_MS } from '../net/call-timeout';
import { httpJson, type HttpJsonOptions } from '../net/http-json';

/** Token scope of the Log Analytics query API, whatever `LOG_ANALYTICS_ENDPOINT` points at. */
export const LOG_ANALYTICS_SCOPE = 'https://api.loganalytics.io/.default';

/**
 * How long after an alert fired its `SecurityAlert` row may still be missing from the workspace: Azure Monitor puts
 * typical ingestion latency at 20 s to 3 min, more under load
 * (https://learn.microsoft.com/azure/azure-monitor/logs/data-ingestion-time). Within this time "not found" is not
 * an answer: defer and read again.
 */
export const ALERT_INGESTION_GRACE_MS = 10 * 60_000;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * An alert id the query may quote: a GUID (every Sentinel and Defender `SystemAlertId` seen), or letters, digits
 * and `-_.:` only. None of these can end a KQL string literal or start an escape, so the id cannot inject KQL.
 */
const QUOTABLE_ALERT_ID = /^[A-Za-z0-9_.:-]{1,256}$/;

/** An alert as its workspace holds it now (the latest `SecurityAlert` row of its `SystemAlertId`). */
export interface SourceAlert {
  systemAlertId: string;
  /** The workspace's customer id (`TenantId` column). */
  workspaceId: string;
  /** `New`, `InProgress`, `Resolved` or `Dismissed` (empty when the provider sets none). */
  status: string;
  severity: string;
  displayName: string;
  providerName: string;
  productName: string;
  timeGenerated: string;
  /** The `Entities` column parsed: entities in the alert-trigger shape (`{ $id, Type, Name, AadUserId, … }`). */
  entities: Record<string, unknown>[];
}

export type AlertLookup = { found: true; alert: SourceAlert } | { found: false };

export interface LogAnalytics {
  /**
   * Re-reads an alert from its workspace. `{ found: false }` only when the workspace answered and holds no such
   * alert (mind {@link ALERT_INGESTION_GRACE_MS}); a failed, throttled or timed-out read throws a transient
   * UpstreamError; no access or no such workspace a permanent one (403, 404); an id that is not one throws
   * ValidationError before anything is sent.
   */
  getAlert(workspaceId: string, systemAlertId: string): Promise<AlertLookup>;
}

/**
 * The KQL that reads one alert's latest row. Sentinel appends a row whenever an alert changes, so the latest one
 * (`arg_max(TimeGenerated, *)`) holds its current status. The id is checked, never escaped: see {@link QUOTABLE_ALERT_ID}.
 */
export function alertQuery(systemAlertId: string): string {
  if (!QUOTABLE_ALERT_ID.test(systemAlertId)) {
    throw new ValidationError('The alert id is not one Sentinel issues', [{ field: 'SystemAlertId', message: 'must be a GUID (or letters, digits and -_.: only)' }]);
  }
  return `SecurityAlert | where SystemAlertId == '${systemAlertId}' | summarize arg_max(TimeGenerated, *) by SystemAlertId`;
}

interface QueryResults {
  tables?: { name?: string; columns?: { name: string }[]; rows?: unknown[][] }[];
  /** Present on a 200 when the query failed in part: the rows may be incomplete. */
  error?: { code?: string; message?: string };
}

/**
 * Client of the Log Analytics query API (`POST {endpoint}/v1/workspaces/{workspaceId}/query`) with the app's
 * managed identity (the credential ARM uses; the identity needs Log Analytics Reader, or Microsoft Sentinel Reader,
 * on the workspace), a time-out per attempt and a budget per call, retries of transient failures.
 */
export function createLogAnalytics(options: { credential: TokenCredential; endpoint: string; http?: HttpJsonOptions }): LogAnalytics {
  const headers = bearerHeaders(options.credential, LOG_ANALYTICS_SCOPE, 'Log Analytics');
  return {
    async getAlert(workspaceId, systemAlertId) {
      if (!GUID.test(workspaceId)) {
        throw new ValidationError('The workspace id is not a GUID', [{ field: 'WorkspaceId', message: 'must be the workspace id (a GUID)' }]);
      }
      const query = alertQuery(systemAlertId);
      const res = await httpJson<QueryResults>(
        'Log Analytics',
        {
          method: 'POST',
          url: `${options.endpoint}/v1/workspaces/${workspaceId.toLowerCase()}/query`,
          // NOTE: `Prefer: wait=` sets the server's time-out; ending before ours gives a clean answer instead of an abort.
          headers: async (signal) => ({ ...(await headers(signal)), prefer: `wait=${Math.floor(CALL_ATTEMPT_TIMEOUT_MS / 1000) - 1}` }),
          body: { query },
          idempotent: true,
        },
        options.http,
      );
      return readAlert(res.body, workspaceId, systemAlertId);
    },
  };
}

/** Reads the query's answer; exported for tests of hostile answers. */
export function readAlert(body: QueryResults, workspaceId: string, systemAlertId: string): AlertLookup {
  if (body.error) {
    // A partial failure: an empty result would be a guess, not an answer.
    throw new UpstreamError({ service: 'Log Analytics', transient: true, upstreamCode: body.error.code ?? 'PartialError', message: `Log Analytics answered in part: ${body.error.message ?? 'no message'}` });
  }
  const table = body.tables?.[0];
  if (!table || !Array.isArray(table.columns) || !Array.isArray(table.rows)) {
    throw malformed('the answer holds no result table');
  }
  const index = new Map(table.columns.map((c, i) => [c.name, i]));
  const rows = table.rows.map((row) => (column: string): unknown => row[index.get(column) ?? -1]);
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  // Only a row about this alert in this workspace counts (a proxy or a wrong query must not vouch for another).
  const mine = rows.filter((get) => text(get('SystemAlertId')) === systemAlertId && text(get('TenantId')).toLowerCase() === workspaceId.toLowerCase());
  if (mine.length === 0) {
    if (rows.length > 0) {
      throw malformed('the answer is about another alert or workspace');
    }
    return { found: false };
  }
  const latest = mine.reduce((a, b) => (Date.parse(text(b('TimeGenerated'))) > Date.parse(text(a('TimeGenerated'))) ? b : a));
  return {
    found: true,
    alert: {
      systemAlertId,
      workspaceId: text(latest('TenantId')),
      status: text(latest('Status')),
      severity: text(latest('AlertSeverity')),
      displayName: text(latest('DisplayName')) || text(latest('AlertName')),
      providerName: text(latest('ProviderName')),
      productName: text(latest('ProductName')),
      timeGenerated: text(latest('TimeGenerated')),
      entities: parseEntities(latest('Entities')),
    },
  };
}

/** The `Entities` column is a JSON string holding an array of objects; anything else is not an answer. */
function parseEntities(value: unknown): Record<string, unknown>[] {
  if (value === undefined || value === null || value === '') {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  } catch {
    throw malformed('the Entities column is not JSON');
  }
  if (!Array.isArray(parsed) || !parsed.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e))) {
    throw malformed('the Entities column is not a list of entities');
  }
  return parsed as Record<string, unknown>[];
}

function malformed(why: string): UpstreamError {
  return new UpstreamError({ service: 'Log Analytics', transient: false, upstreamCode: 'MalformedAnswer', message: `Log Analytics: ${why}` });
}
