import { httpJson } from '../net/http-json';
import type { TicketProvider, TicketRequest } from './ticket-provider';

/** Atlassian Document Format: Jira Cloud REST v3 rejects plain-string descriptions. */
export function toAdf(text: string): unknown {
  return {
    type: 'doc',
    version: 1,
    content: text.split('\n').map((line) => (line.length > 0 ? { type: 'paragraph', content: [{ type: 'text', text: line }] } : { type: 'paragraph', content: [] })),
  };
}

/** Jira labels cannot hold spaces; the ticket key becomes one label so a retried open can find the issue. */
export function keyLabel(key: string): string {
  return key.replace(/[^A-Za-z0-9_.:-]/g, '-').slice(0, 255);
}

const PRIORITY: Record<TicketRequest['severity'], string> = { High: 'High', Medium: 'Medium', Low: 'Low', Informational: 'Lowest' };

/** Jira Cloud REST v3: issue per case, labelled with its key; notes are comments. */
export function jiraTickets(options: { baseUrl: string; email: string; apiToken: string; projectKey: string; issueType: string }): TicketProvider {
  const headers = { authorization: `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}` };
  return {
    name: 'jira',
    async open(request) {
      const label = keyLabel(request.key);
      const jql = new URLSearchParams({ jql: `labels = "${label}"`, fields: 'key', maxResults: '1' });
      const found = await httpJson<{ issues?: { id: string; key: string }[] }>('Jira', { method: 'GET', url: `${options.baseUrl}/rest/api/3/search/jql?${jql}`, headers });
      const existing = found.body.issues?.[0];
      if (existing) {
        return { provider: 'jira', id: existing.id, number: existing.key };
      }
      const created = await httpJson<{ id: string; key: string }>('Jira', {
        method: 'POST',
        url: `${options.baseUrl}/rest/api/3/issue`,
        headers,
        body: {
          fields: {
            project: { key: options.projectKey },
            issuetype: { name: options.issueType },
            summary: request.title.slice(0, 250),
            description: toAdf(request.text),
            labels: ['agent-responders', label],
            priority: { name: PRIORITY[request.severity] },
          },
        },
      });
      return { provider: 'jira', id: created.body.id, number: created.body.key };
    },
    async addNote(ticket, note) {
      await httpJson('Jira', {
        method: 'POST',
        url: `${options.baseUrl}/rest/api/3/issue/${encodeURIComponent(ticket.number ?? ticket.id)}/comment`,
        headers,
        body: { body: toAdf(note) },
      });
    },
  };
}
