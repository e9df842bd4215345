import { UpstreamError } from '../errors';
import { httpJson, operationDeadline, type HttpJsonOptions } from '../net/http-json';
import type { TicketProvider, TicketRequest } from './ticket-provider';
import { writeOnce } from './write-once';

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

/**
 * How long a created issue may stay invisible to JQL search (`/rest/api/3/search/jql`). Atlassian: the endpoint
 * is not read-after-write consistent, "the delay might vary from a few seconds to minutes"
 * (https://developer.atlassian.com/cloud/jira/platform/search-and-reconcile). Until this long after an unanswered
 * create, a search that finds nothing is not proof that nothing was created, so no second create is sent.
 */
export const JIRA_SEARCH_CONSISTENCY_WINDOW_MS = 5 * 60_000;

/**
 * How long an unanswered comment may still be written. Atlassian documents no server-side request time-out; a
 * minute, as ServiceNow's default quota, is assumed. Comments are read back consistently (not through search).
 */
export const JIRA_WRITE_SETTLE_MS = 60_000;

/** The comment property that holds a note's key, so a retried note finds the comment it already added. */
export const NOTE_KEY_PROPERTY = 'agent-responders.note-key';

const PRIORITY: Record<TicketRequest['severity'], string> = { High: 'High', Medium: 'Medium', Low: 'Low', Informational: 'Lowest' };

interface JiraComment {
  id: string;
  properties?: { key: string; value: unknown }[];
}

/**
 * Jira Cloud REST v3: one issue per case, labelled with its key and found by JQL before every create (waiting out
 * the search's consistency window after a create of unknown outcome); read back by key; notes are comments
 * carrying their key in a comment property, checked before adding.
 */
export function jiraTickets(options: {
  baseUrl: string;
  email: string;
  apiToken: string;
  projectKey: string;
  issueType: string;
  /** Clock of the settle windows (tests move it). */
  now?: () => number;
  http?: HttpJsonOptions;
}): TicketProvider {
  const headers = { authorization: `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}` };
  const now = options.now ?? Date.now;
  const issueUrl = (key: string) => `${options.baseUrl}/rest/api/3/issue/${encodeURIComponent(key)}`;

  /** The ids of every comment of an issue, page by page (comments are read directly, not through search). */
  async function commentIds(issueKey: string, deadline: number): Promise<string[]> {
    const ids: string[] = [];
    for (let startAt = 0; ; ) {
      const page = await httpJson<{ comments?: { id: string }[]; total?: number }>(
        'Jira',
        { method: 'GET', url: `${issueUrl(issueKey)}/comment?${new URLSearchParams({ startAt: String(startAt), maxResults: '1000' })}`, headers },
        { ...options.http, deadline },
      );
      const comments = page.body.comments ?? [];
      ids.push(...comments.map((c) => c.id));
      startAt += comments.length;
      if (comments.length === 0 || startAt >= (page.body.total ?? 0)) {
        return ids;
      }
    }
  }

  /** Whether a comment of the issue holds `noteKey` in its note-key property. */
  async function hasNote(issueKey: string, noteKey: string, deadline: number): Promise<boolean> {
    const ids = await commentIds(issueKey, deadline);
    for (let i = 0; i < ids.length; i += 1000) {
      const page = await httpJson<{ values?: JiraComment[] }>(
        'Jira',
        { method: 'POST', url: `${options.baseUrl}/rest/api/3/comment/list?expand=properties`, headers, body: { ids: ids.slice(i, i + 1000).map(Number) }, idempotent: true },
        { ...options.http, deadline },
      );
      const held = (page.body.values ?? []).some((c) =>
        (c.properties ?? []).some((p) => p.key === NOTE_KEY_PROPERTY && typeof p.value === 'object' && p.value !== null && (p.value as { key?: unknown }).key === noteKey),
      );
      if (held) {
        return true;
      }
    }
    return false;
  }

  return {
    name: 'jira',
    open(request, earlier) {
      const label = keyLabel(request.key);
      const deadline = operationDeadline(options.http);
      return writeOnce({
        service: 'Jira',
        waiting: 'waiting for Jira search to catch up',
        settleMs: JIRA_SEARCH_CONSISTENCY_WINDOW_MS,
        earlierAttemptAt: earlier?.earlierAttemptAt,
        now,
        async find() {
          const jql = new URLSearchParams({ jql: `labels = "${label}"`, fields: 'key', maxResults: '1' });
          const found = await httpJson<{ issues?: { id: string; key: string }[] }>('Jira', { method: 'GET', url: `${options.baseUrl}/rest/api/3/search/jql?${jql}`, headers }, { ...options.http, deadline });
          const existing = found.body.issues?.[0];
          return existing ? { provider: 'jira' as const, id: existing.id, number: existing.key } : undefined;
        },
        async write() {
          const created = await httpJson<{ id: string; key: string }>(
            'Jira',
            {
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
            },
            { ...options.http, deadline },
          );
          return { provider: 'jira' as const, id: created.body.id, number: created.body.key };
        },
      });
    },
    async get(ref) {
      try {
        const res = await httpJson<{ id: string; key: string }>('Jira', { method: 'GET', url: `${issueUrl(ref.number ?? ref.id)}?fields=summary`, headers }, options.http);
        return { provider: 'jira', id: res.body.id, number: res.body.key };
      } catch (err) {
        if (err instanceof UpstreamError && err.httpStatus === 404) {
          return undefined;
        }
        throw err;
      }
    },
    async addNote(ticket, note, noteKey, earlier) {
      const issueKey = ticket.number ?? ticket.id;
      const deadline = operationDeadline(options.http);
      await writeOnce({
        service: 'Jira',
        waiting: 'waiting for an earlier comment to settle',
        settleMs: JIRA_WRITE_SETTLE_MS,
        earlierAttemptAt: earlier?.earlierAttemptAt,
        now,
        find: async () => ((await hasNote(issueKey, noteKey, deadline)) ? true : undefined),
        async write() {
          await httpJson(
            'Jira',
            { method: 'POST', url: `${issueUrl(issueKey)}/comment`, headers, body: { body: toAdf(note), properties: [{ key: NOTE_KEY_PROPERTY, value: { key: noteKey } }] } },
            { ...options.http, deadline },
          );
          return true;
        },
      });
    },
  };
}
