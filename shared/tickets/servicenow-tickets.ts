import { httpJson } from '../net/http-json';
import type { TicketProvider, TicketRef, TicketRequest } from './ticket-provider';

const URGENCY: Record<TicketRequest['severity'], string> = { High: '1', Medium: '2', Low: '3', Informational: '3' };

interface SnowRecord {
  sys_id: string;
  number?: string;
}

/**
 * ServiceNow Table API (`/api/now/table/incident`). Idempotent through `correlation_id` = the ticket key:
 * a retried open looks the key up before creating.
 */
export function serviceNowTickets(options: { instanceUrl: string; username: string; password: string }): TicketProvider {
  const headers = { authorization: `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}` };
  const table = `${options.instanceUrl}/api/now/table/incident`;
  return {
    name: 'servicenow',
    async open(request) {
      const query = new URLSearchParams({ sysparm_query: `correlation_id=${request.key}`, sysparm_limit: '1', sysparm_fields: 'sys_id,number' });
      const existing = await httpJson<{ result: SnowRecord[] }>('ServiceNow', { method: 'GET', url: `${table}?${query}`, headers });
      const found = existing.body.result?.[0];
      if (found) {
        return toRef(found);
      }
      const created = await httpJson<{ result: SnowRecord }>('ServiceNow', {
        method: 'POST',
        url: table,
        headers,
        body: {
          short_description: request.title.slice(0, 160),
          description: request.text,
          correlation_id: request.key,
          correlation_display: 'agent-responders',
          urgency: URGENCY[request.severity],
          impact: URGENCY[request.severity],
          category: 'security',
        },
      });
      return toRef(created.body.result);
    },
    async addNote(ticket: TicketRef, note: string) {
      await httpJson('ServiceNow', { method: 'PATCH', url: `${table}/${encodeURIComponent(ticket.id)}`, headers, body: { work_notes: note } });
    },
  };
}

function toRef(record: SnowRecord): TicketRef {
  return { provider: 'servicenow', id: record.sys_id, ...(record.number ? { number: record.number } : {}) };
}
