import { UpstreamError } from '../errors';
import { httpJson, operationDeadline, type HttpJsonOptions } from '../net/http-json';
import { noteMarker, queryableKey } from './note-marker';
import type { TicketProvider, TicketRef, TicketRequest } from './ticket-provider';
import { writeOnce } from './write-once';

const URGENCY: Record<TicketRequest['severity'], string> = { High: '1', Medium: '2', Low: '3', Informational: '3' };

/**
 * How long an unanswered Table API write may still commit: ServiceNow's default transaction quota rule "REST Table
 * API request timeout" cancels an inbound Table API transaction after 60 s
 * (https://www.servicenow.com/docs/r/platform-administration/platform-performance/c_DefaultQuotaRules.html).
 */
export const SERVICENOW_WRITE_SETTLE_MS = 60_000;

interface SnowRecord {
  sys_id: string;
  number?: string;
}

/**
 * ServiceNow Table API (`/api/now/table/incident`). A ticket is found by `correlation_id` = its key before every
 * create attempt; a note carries a marker and is found in the Journal Entries table (`sys_journal_field`, by
 * `element_id` = the incident's sys_id) before it is added. The integration user needs read on
 * `sys_journal_field` besides create/read/write on `incident`.
 */
export function serviceNowTickets(options: {
  instanceUrl: string;
  username: string;
  password: string;
  /** Clock of the settle windows (tests move it). */
  now?: () => number;
  http?: HttpJsonOptions;
}): TicketProvider {
  const headers = { authorization: `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}` };
  const table = `${options.instanceUrl}/api/now/table/incident`;
  const journal = `${options.instanceUrl}/api/now/table/sys_journal_field`;
  const now = options.now ?? Date.now;
  return {
    name: 'servicenow',
    open(request, earlier) {
      const correlationId = queryableKey(request.key);
      const deadline = operationDeadline(options.http);
      return writeOnce({
        service: 'ServiceNow',
        waiting: `waiting for an earlier create of ${correlationId} to settle`,
        settleMs: SERVICENOW_WRITE_SETTLE_MS,
        earlierAttemptAt: earlier?.earlierAttemptAt,
        now,
        async find() {
          const query = new URLSearchParams({ sysparm_query: `correlation_id=${correlationId}`, sysparm_limit: '1', sysparm_fields: 'sys_id,number' });
          const existing = await httpJson<{ result?: SnowRecord[] }>('ServiceNow', { method: 'GET', url: `${table}?${query}`, headers }, { ...options.http, deadline });
          const found = existing.body.result?.[0];
          return found ? toRef(found) : undefined;
        },
        async write() {
          const created = await httpJson<{ result: SnowRecord }>(
            'ServiceNow',
            {
              method: 'POST',
              url: `${table}?sysparm_fields=sys_id,number`,
              headers,
              body: {
                short_description: request.title.slice(0, 160),
                description: request.text,
                correlation_id: correlationId,
                correlation_display: 'agent-responders',
                urgency: URGENCY[request.severity],
                impact: URGENCY[request.severity],
                category: 'security',
              },
            },
            { ...options.http, deadline },
          );
          return toRef(created.body.result);
        },
      });
    },
    async get(ref) {
      try {
        const res = await httpJson<{ result: SnowRecord }>('ServiceNow', { method: 'GET', url: `${table}/${encodeURIComponent(ref.id)}?sysparm_fields=sys_id,number`, headers }, options.http);
        return toRef(res.body.result);
      } catch (err) {
        if (err instanceof UpstreamError && err.httpStatus === 404) {
          return undefined;
        }
        throw err;
      }
    },
    async addNote(ticket: TicketRef, note: string, noteKey: string, earlier) {
      if (!/^[0-9a-f]{32}$/.test(ticket.id)) {
        // The sys_id goes into an encoded query: only ever one ServiceNow gave us.
        throw new UpstreamError({ service: 'ServiceNow', transient: false, upstreamCode: 'InvalidTicketRef', message: `ServiceNow: '${ticket.id.slice(0, 40)}' is not a sys_id` });
      }
      const marker = noteMarker(noteKey);
      const deadline = operationDeadline(options.http);
      await writeOnce({
        service: 'ServiceNow',
        waiting: `waiting for an earlier work note ${marker} to settle`,
        settleMs: SERVICENOW_WRITE_SETTLE_MS,
        earlierAttemptAt: earlier?.earlierAttemptAt,
        now,
        async find() {
          const query = new URLSearchParams({
            sysparm_query: `element_id=${ticket.id}^element=work_notes^valueLIKE${marker}`,
            sysparm_limit: '1',
            sysparm_fields: 'sys_id',
          });
          const res = await httpJson<{ result?: { sys_id: string }[] }>('ServiceNow', { method: 'GET', url: `${journal}?${query}`, headers }, { ...options.http, deadline });
          return res.body.result?.[0] ? true : undefined;
        },
        async write() {
          // A journal PATCH appends: sending it twice adds the note twice, so it is not retried blindly.
          await httpJson(
            'ServiceNow',
            { method: 'PATCH', url: `${table}/${encodeURIComponent(ticket.id)}?sysparm_fields=sys_id`, headers, body: { work_notes: `${note}\n\n[${marker}]` }, idempotent: false },
            { ...options.http, deadline },
          );
          return true;
        },
      });
    },
  };
}

function toRef(record: SnowRecord): TicketRef {
  return { provider: 'servicenow', id: record.sys_id, ...(record.number ? { number: record.number } : {}) };
}
