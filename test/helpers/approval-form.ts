import type { Person } from './approval-sign-in';
import { DEMO } from '../../dev/simulator/demo-ids';

/** The confirmation form's hidden fields as a page renders them (`token`, `af`), HTML entities decoded. */
export function readApprovalForm(html: string): { action: string; token: string; af: string } | undefined {
  const field = (name: string) => new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html)?.[1];
  const action = /<form method="post"(?: action="([^"]*)")?/.exec(html);
  const token = field('token');
  const af = field('af');
  if (!action || token === undefined || af === undefined) {
    return undefined;
  }
  return { action: decodeEntities(action[1] ?? ''), token: decodeEntities(token), af: decodeEntities(af) };
}

/** The `application/x-www-form-urlencoded` body a browser posts when the given button is pressed. */
export function decisionBody(form: { token: string; af: string }, decision: 'approve' | 'reject', comment?: string): string {
  const params = new URLSearchParams({ token: form.token, af: form.af, decision });
  if (comment !== undefined) {
    params.set('comment', comment);
  }
  return params.toString();
}

/** The `id` and `token` of an approval link `…/api/approvals/{id}?token=…`. */
export function parseApprovalLink(link: string): { id: string; token: string; path: string } {
  const url = new URL(link);
  const id = /\/api\/approvals\/([^/?#]+)$/.exec(url.pathname)?.[1];
  const token = url.searchParams.get('token');
  if (!id || !token) {
    throw new Error(`not an approval link: ${link}`);
  }
  return { id, token, path: `${url.pathname}${url.search}` };
}

/** The visible text of a page, for assertions that read like what a person sees. */
export function pageText(html: string): string {
  return decodeEntities(html.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#\d+);/g, (_entity: string, name: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
    return named[name] ?? String.fromCharCode(Number(name.slice(1)));
  });
}

/** A person of the demo tenant (sign them in with `signedInAs`). */
export function principalOf(objectId: string, upn: string, name = upn): Person {
  return { objectId, upn, name };
}

/** The demo tenant's people, as principals. */
export const PEOPLE = {
  socLead: principalOf(DEMO.approvers[0], DEMO.approverUpns[0], 'Sam SOC Lead'),
  secManager: principalOf(DEMO.approvers[1], DEMO.approverUpns[1], 'Morgan Security Manager'),
  onCall: principalOf(DEMO.approvers[2], DEMO.approverUpns[2], 'Alex On-Call'),
  sponsor: principalOf(DEMO.human, DEMO.humanUpn, 'Dana Sponsor'),
  mailbox: principalOf(DEMO.mailbox, DEMO.mailboxUpn, 'Agent Responder Mailbox'),
} as const;
