import { createStorage } from '../../shared/store/storage';
import { RecordTable } from '../../shared/store/record-table';
import type { ApprovalEntity } from '../../shared/approvals/approval-entity';
import { settled, type Stack } from './start-stack';
import { incidentNaming } from './incident-naming';
import { openAuditLog, type AuditEntry } from '../../shared/store/audit-log';
import { decodeKey } from '../../shared/config';
import { issueAntiForgeryToken } from '../../shared/approvals/anti-forgery';
import { decisionBody, pageText, parseApprovalLink, readApprovalForm } from './approval-form';
import { DEMO } from '../../dev/simulator/demo-ids';

/**
 * Signs in through the local host's development Easy Auth (the picker's form post) and returns the session
 * cookie; the host then injects `x-ms-client-principal` for that person, as App Service Authentication does.
 */
export async function signInAs(baseUrl: string, userId: string): Promise<string> {
  const res = await fetch(`${baseUrl}/.auth/login/dev`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ userId, post_login_redirect_uri: '/' }).toString(),
    redirect: 'manual',
  });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  if (res.status !== 302 || !cookie) {
    throw new Error(`dev sign-in as ${userId} failed: ${res.status}`);
  }
  return cookie;
}

/** A GET or form POST to the app as a browser would send it (cookie optional, redirects not followed). */
export async function browse(baseUrl: string, path: string, opts: { cookie?: string; method?: string; form?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; html: string; headers: Headers }> {
  const headers: Record<string, string> = { ...(opts.cookie ? { cookie: opts.cookie } : {}), ...opts.headers };
  if (opts.form !== undefined) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  const res = await fetch(`${baseUrl}${path}`, { method: opts.method ?? (opts.form === undefined ? 'GET' : 'POST'), headers, body: opts.form, redirect: 'manual' });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

/** The stack's approvals table, read from the test: how tests see that nothing was decided. */
export async function approvalsOf(stack: Stack): Promise<RecordTable<ApprovalEntity>> {
  const noCredential = { getToken: () => Promise.resolve(null) };
  const storage = createStorage({ AzureWebJobsStorage: stack.env['AzureWebJobsStorage'] }, noCredential);
  return new RecordTable<ApprovalEntity>(await storage.table('approvals'));
}

/** ServiceNow work notes and descriptions the simulator holds, newest last. */
export async function ticketTexts(stack: Stack): Promise<string[]> {
  const res = (await (await fetch(`${stack.sim.url}/_sim/tickets`)).json()) as { servicenow: { description?: string; journal: { value: unknown }[] }[] };
  return res.servicenow.flatMap((t) => [String(t.description ?? ''), ...t.journal.map((j) => String(j.value))]);
}

/** Texts of the comments on Sentinel incidents. */
export async function incidentComments(stack: Stack): Promise<string[]> {
  const res = (await (await fetch(`${stack.sim.url}/_sim/comments`)).json()) as { value: { properties?: { message?: string } }[] };
  return res.value.map((c) => String(c.properties?.message ?? JSON.stringify(c)));
}

/** The first approval link in a text (ticket or comment), as the responder wrote it there. */
export function linkIn(text: string, baseUrl: string): string | undefined {
  const escaped = baseUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`${escaped}/api/approvals/[0-9a-f]{24}\\?token=[A-Za-z0-9_%.-]+`).exec(text)?.[0];
}

/**
 * Asks to release a target as a signed-in person (the dev sign-in, as an analyst in a browser would be): the
 * function key alone cannot ask. The default requester is Approver 3 (an approver through the group), so
 * Approvers 1 and 2 remain free to decide.
 */
export async function askRelease(stack: Stack, caseId: string, body: unknown, userId: string = DEMO.approvers[2]): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  return stack.post(`/api/cases/${caseId}/release`, body, { cookie: await signInAs(stack.url, userId) });
}

/** The stack's audit entries for one scope (a case id), oldest first. */
export async function auditOf(stack: Stack, scope: string): Promise<AuditEntry[]> {
  const noCredential = { getToken: () => Promise.resolve(null) };
  const storage = createStorage({ AzureWebJobsStorage: stack.env['AzureWebJobsStorage'] }, noCredential);
  return (await openAuditLog(storage)).list(scope);
}

/**
 * The anti-forgery token the page would give `principalId`, minted with the stack's signing key: lets a test act
 * as an attacker who somehow holds a form, so the server's own checks are what stop the decision.
 */
export async function mintedForm(stack: Stack, link: string, principalId: string): Promise<{ token: string; af: string }> {
  const { id, token } = parseApprovalLink(link);
  const stored = await (await approvalsOf(stack)).get(id, 'approval');
  const key = decodeKey(stack.env['APPROVAL_SIGNING_KEY'] ?? '');
  return { token, af: issueAntiForgeryToken(key, { approvalId: id, principalId, nonce: stored?.value.nonce ?? '', now: Date.now() }) };
}

/** Contains `target` through a fresh incident (seeded in the simulator's Sentinel) and returns the settled case. */
export async function containThroughIncident(stack: Stack, n: number, target: { id: string; name: string }): Promise<string> {
  const incident = incidentNaming(n, [target]);
  stack.sim.state.putIncident(incident.seed);
  const caseId = String((await stack.post('/api/alerts', incident.trigger)).body['caseId']);
  await stack.waitForCase(caseId, settled);
  return caseId;
}

/**
 * Opens an approval `link` signed in as `userId`, presses Approve or Reject, and returns the text of the page the
 * approver then sees. Throws when the page offers no form or the decision is not answered with 200.
 */
export async function decideOnPage(stack: Pick<Stack, 'url'>, link: string, userId: string, decision: 'approve' | 'reject', comment?: string): Promise<string> {
  const cookie = await signInAs(stack.url, userId);
  const { path } = parseApprovalLink(link);
  const page = await browse(stack.url, path, { cookie });
  const form = readApprovalForm(page.html);
  if (!form) {
    throw new Error(`no form for ${userId}: ${page.status} ${pageText(page.html)}`);
  }
  const res = await browse(stack.url, form.action, { cookie, form: decisionBody(form, decision, comment) });
  if (res.status !== 200) {
    throw new Error(`the ${decision} decision of ${userId} was answered ${res.status}: ${pageText(res.html)}`);
  }
  return pageText(res.html);
}
