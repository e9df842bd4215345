import type { ApprovalTokenFailure } from './approval-token';
import type { ApprovalRecord, Decision } from './decide-rules';
import { escapeHtml } from './escape-html';
import { MAX_COMMENT_LENGTH } from './parse-decision-form';

/** What an approver needs to know to decide, in plain words. */
export interface ApprovalSummary {
  id: string;
  title: string;
  /** Plain words: what will change if approved. */
  actionText: string;
  targetName: string;
  targetKind: string;
  targetId: string;
  requestedBy: string;
  reason: string;
  /** Epoch ms. */
  expiresAt: number;
  quorum: number;
  approvalsSoFar: number;
  /** Plain words: who may decide. */
  approvers: string;
  /** The incident behind the case, when the case came from Sentinel. */
  incident?: { title: string; severity: string; number?: number; url?: string };
  /** When access was cut (epoch ms), if the identity is contained. */
  containedAt?: number;
  /** Plain words: why the identity was contained (or is to be). */
  containedWhy?: string;
}

/** Why a visitor is asked to sign in: nobody yet, or a sign-in that did not verify (e.g. expired). */
export type SignInReason = 'signed-out' | 'invalid-token';

/** A cookie a page sets, in the shape `@azure/functions` takes (`HttpResponseInit.cookies`). */
export interface PageCookie {
  name: string;
  value: string;
  path: string;
  maxAge: number;
  httpOnly: true;
  secure: boolean;
  sameSite: 'Lax';
}

/** Every page the approval routes can show. */
export type ApprovalPageView =
  | {
      kind: 'confirm';
      approval: ApprovalSummary;
      /** Where the form posts: a same-origin path such as `/api/approvals/{id}`. */
      formAction: string;
      linkToken: string;
      antiForgeryToken: string;
      signedInAs: string;
    }
  | { kind: 'sign-in'; signInUrl: string; reason?: SignInReason }
  /** App Service Authentication is not verifiably in front of the app: nobody can be trusted as signed in. */
  | { kind: 'sign-in-unavailable' }
  /** Separation of duties (or the approvers list) cannot be checked: nobody can decide until it can. */
  | { kind: 'cannot-decide'; approval: ApprovalSummary; message: string; signedInAs: string }
  | { kind: 'outcome'; approval: ApprovalSummary; status: ApprovalRecord['status']; decisions: Decision[]; signedInAs: string }
  | { kind: 'refused'; status: 400 | 403 | 409 | 410; title: string; message: string; signedInAs?: string }
  | { kind: 'invalid-link'; reason: ApprovalTokenFailure }
  | {
      kind: 'recorded';
      approval: ApprovalSummary;
      decision: Decision['decision'];
      /** The request's status after the decision. */
      status: ApprovalRecord['status'];
      decisions: Decision[];
      signedInAs: string;
    };

export interface RenderedPage {
  status: number;
  headers: Record<string, string>;
  body: string;
  cookies?: PageCookie[];
}

/**
 * Headers on every approval page. No script may run (scanners and previewers open links), the page cannot be
 * framed (clickjacking the Approve button), forms post only to us, and no Referer carries the link token away.
 */
export const APPROVAL_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
});

/**
 * Renders an approval page: server-side HTML with inline CSS, readable on a phone, no script and no external
 * asset. Every value is HTML-escaped. Stable ids for browser tests: `#approval-title`, `#action`, `#approve`,
 * `#reject`, `#comment`, `#outcome`, `#message`, `#target`, `#incident`, `#contained`, `#requested`,
 * `#signed-in-as`, `#sign-out`.
 *
 * Status codes: confirm, outcome and recorded 200; sign-in 401; sign-in-unavailable and cannot-decide 503;
 * refused as given; invalid-link 410 when expired, else 400. Nothing about the request (who asked, why, who
 * decided, their comments) appears on a page for a visitor who is not signed in.
 */
export function renderApprovalPage(view: ApprovalPageView): RenderedPage {
  const { status, title, main } = pageParts(view);
  return { status, headers: { ...APPROVAL_PAGE_HEADERS }, body: layout(title, main) };
}

function pageParts(view: ApprovalPageView): { status: number; title: string; main: string } {
  switch (view.kind) {
    case 'confirm':
      return { status: 200, title: view.approval.title, main: confirmMain(view) };
    case 'sign-in':
      return {
        status: 401,
        title: 'Sign in to view',
        main: `<h1 id="approval-title">Sign in to view</h1>
<p id="message">${
          view.reason === 'invalid-token'
            ? 'Your sign-in could not be verified (it may have expired). Sign in again with your work account to view this approval request. Nothing has been changed.'
            : 'Sign in with your work account to view and decide this approval request. Nothing has been changed.'
        }</p>
<p><a class="button" href="${escapeHtml(safeHref(view.signInUrl) ?? '/.auth/login/aad')}">Sign in</a></p>`,
      };
    case 'sign-in-unavailable':
      return {
        status: 503,
        title: 'Approvals are unavailable',
        main: `<h1 id="approval-title">Approvals are unavailable</h1>
<p id="message">Sign-in is not set up for this responder (App Service Authentication with Microsoft Entra ID), so nobody can be verified and nobody can decide. Nothing has been changed. Tell your security team.</p>`,
      };
    case 'cannot-decide':
      return {
        status: 503,
        title: view.approval.title,
        main: `${topBar(view.signedInAs)}
<h1 id="approval-title">${escapeHtml(view.approval.title)}</h1>
<p id="message" class="warning">${escapeHtml(view.message)}</p>
${keyFacts(view.approval)}
${actionSection(view.approval, 'What this request would change')}
${detailList(view.approval)}`,
      };
    case 'outcome':
      return {
        status: 200,
        title: view.approval.title,
        main: `${topBar(view.signedInAs)}
<h1 id="approval-title">${escapeHtml(view.approval.title)}</h1>
${statusBadge(view.status)}
<p id="message">${escapeHtml(outcomeMessage(view.status, view.approval))}</p>
${keyFacts(view.approval)}
${actionSection(view.approval, view.status === 'approved' ? 'What changes' : 'What would have changed')}
${decisionList(view.decisions)}
${detailList(view.approval)}`,
      };
    case 'refused':
      return {
        status: view.status,
        title: view.title,
        main: `${view.signedInAs === undefined ? '' : topBar(view.signedInAs)}
<h1 id="approval-title">${escapeHtml(view.title)}</h1>
<p id="message">${escapeHtml(view.message)}</p>`,
      };
    case 'invalid-link': {
      const page = invalidLinkText(view.reason);
      return {
        status: view.reason === 'expired' ? 410 : 400,
        title: page.title,
        main: `<h1 id="approval-title">${escapeHtml(page.title)}</h1>
<p id="message">${escapeHtml(page.message)}</p>`,
      };
    }
    case 'recorded':
      return {
        status: 200,
        title: view.approval.title,
        main: `${topBar(view.signedInAs)}
<h1 id="approval-title">${escapeHtml(view.approval.title)}</h1>
${statusBadge(view.status)}
<p id="message">${escapeHtml(recordedMessage(view.decision, view.status, view.approval))}</p>
${actionSection(view.approval, 'What this request changes')}
${decisionList(view.decisions)}`,
      };
  }
}

function confirmMain(view: Extract<ApprovalPageView, { kind: 'confirm' }>): string {
  const a = view.approval;
  const action = safeHref(view.formAction);
  // Without a safe action the form posts back to the page's own URL, which is the same route.
  const actionAttr = action === undefined ? '' : ` action="${escapeHtml(action)}"`;
  const quorumNote =
    a.quorum > 1
      ? `This request needs ${a.quorum} different approvers; ${a.approvalsSoFar} approved so far. One rejection rejects it.`
      : 'One approval decides this request. One rejection rejects it.';
  // The decision comes first, so Approve and Reject sit on a phone's first screen; the details follow.
  // Reject needs a reason: the browser asks for it (Approve skips the check), and the server refuses without it.
  return `${topBar(view.signedInAs)}
<h1 id="approval-title">${escapeHtml(a.title)}</h1>
${keyFacts(a)}
<form method="post"${actionAttr} autocomplete="off">
<input type="hidden" name="token" value="${escapeHtml(view.linkToken)}">
<input type="hidden" name="af" value="${escapeHtml(view.antiForgeryToken)}">
<label for="comment">Reason <span class="small">(required to reject, optional to approve)</span></label>
<textarea id="comment" name="comment" rows="2" maxlength="${MAX_COMMENT_LENGTH}" required></textarea>
<div class="buttons">
<button id="approve" class="approve" type="submit" name="decision" value="approve" formnovalidate>Approve</button>
<button id="reject" class="reject" type="submit" name="decision" value="reject">Reject</button>
</div>
</form>
<p class="small">Nothing changes until you press Approve or Reject. ${escapeHtml(quorumNote)}</p>
${actionSection(a, 'What will change if you approve')}
${detailList(a)}
<p class="small">If you did not expect this request, press Reject and tell your security team.</p>`;
}

/** Who is signed in, and the way out (Easy Auth's sign-out ends the session). */
function topBar(signedInAs: string): string {
  return `<p class="bar"><span id="signed-in-as">Signed in as ${escapeHtml(signedInAs)}</span> <a id="sign-out" href="/.auth/logout?post_logout_redirect_uri=%2F">Sign out</a></p>`;
}

/** The few facts an approver decides on: which identity, which incident, when and why it was contained, who asks. */
function keyFacts(a: ApprovalSummary): string {
  const rows: [string, string, string][] = [['target', 'Identity', `<strong>${escapeHtml(a.targetName)}</strong> (${escapeHtml(a.targetKind)})`]];
  if (a.incident) {
    const label = `${a.incident.number === undefined ? '' : `#${a.incident.number} `}${a.incident.title}`;
    const link = a.incident.url === undefined || safeHref(a.incident.url) === undefined ? escapeHtml(label) : `<a href="${escapeHtml(safeHref(a.incident.url) ?? '')}">${escapeHtml(label)}</a>`;
    rows.push(['incident', 'Incident', `${link} <span class="sev">${escapeHtml(a.incident.severity)}</span>`]);
  }
  const when = a.containedAt === undefined ? 'Not contained yet' : formatTime(a.containedAt);
  rows.push(['contained', 'Contained', `${escapeHtml(when)}${a.containedWhy === undefined ? '' : `: ${escapeHtml(a.containedWhy)}`}`]);
  rows.push(['requested', 'Asked by', `${escapeHtml(a.requestedBy)}: ${escapeHtml(a.reason)}`]);
  return `<dl class="facts">
${rows.map(([id, term, html]) => `<dt>${escapeHtml(term)}</dt><dd id="${id}">${html}</dd>`).join('\n')}
</dl>`;
}

function actionSection(a: ApprovalSummary, heading: string): string {
  return `<h2>${escapeHtml(heading)}</h2>
<p id="action" class="action">${escapeHtml(a.actionText)}</p>`;
}

function detailList(a: ApprovalSummary): string {
  const rows: [string, string][] = [
    ['Identity', `${escapeHtml(a.targetName)} (${escapeHtml(a.targetKind)})<br><code>${escapeHtml(a.targetId)}</code>`],
    ['Approvals', `${escapeHtml(a.approvalsSoFar)} of ${escapeHtml(a.quorum)} needed`],
    ['Who may decide', escapeHtml(a.approvers)],
    ['Decide before', escapeHtml(formatTime(a.expiresAt))],
    ['Request id', `<code>${escapeHtml(a.id)}</code>`],
  ];
  return `<dl>
${rows.map(([term, html]) => `<dt>${escapeHtml(term)}</dt><dd>${html}</dd>`).join('\n')}
</dl>`;
}

function decisionList(decisions: Decision[]): string {
  if (decisions.length === 0) {
    return '';
  }
  const items = decisions.map((d) => {
    const who = escapeHtml(d.name ?? d.by);
    const verb = d.decision === 'approve' ? 'approved' : 'rejected';
    const comment = d.comment === undefined || d.comment.length === 0 ? '' : `<br><q>${escapeHtml(d.comment)}</q>`;
    return `<li>${who} ${verb} at ${escapeHtml(formatTime(d.at))}${comment}</li>`;
  });
  return `<h2>Decisions</h2>
<ul id="decisions">
${items.join('\n')}
</ul>`;
}

const STATUS_LABEL: Record<ApprovalRecord['status'], string> = {
  pending: 'Waiting for more approvals',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
};

function statusBadge(status: ApprovalRecord['status']): string {
  return `<p id="outcome" class="status status-${status}">${escapeHtml(STATUS_LABEL[status])}</p>`;
}

function remaining(a: ApprovalSummary): string {
  const left = Math.max(0, a.quorum - a.approvalsSoFar);
  return `${a.approvalsSoFar} of ${a.quorum} approvals so far; waiting for ${left} more ${left === 1 ? 'person' : 'people'}.`;
}

function outcomeMessage(status: ApprovalRecord['status'], a: ApprovalSummary): string {
  switch (status) {
    case 'approved':
      return 'This request has been approved and the change runs automatically. Nothing more is needed; you can close this page.';
    case 'rejected':
      return 'This request was rejected, so nothing will change. If the change is still needed, raise a new request from the ticket.';
    case 'expired':
      return 'This request expired before it was decided, so nothing changed. If the change is still needed, ask for a new request from the ticket.';
    case 'pending':
      return `This request is still open. ${remaining(a)} If you have already decided, nothing more is needed from you.`;
  }
}

function recordedMessage(decision: Decision['decision'], status: ApprovalRecord['status'], a: ApprovalSummary): string {
  if (decision === 'reject') {
    return 'Your rejection is recorded. The request is rejected and nothing will change. You can close this page.';
  }
  if (status === 'approved') {
    return 'Your approval is recorded. The request is approved and the change will now run. You can close this page.';
  }
  return `Your approval is recorded. ${remaining(a)} Nothing changes until then; you can close this page.`;
}

function invalidLinkText(reason: ApprovalTokenFailure): { title: string; message: string } {
  switch (reason) {
    case 'expired':
      return {
        title: 'This approval link has expired',
        message: 'Nothing was changed. If the request still needs a decision, ask for a new link from the ticket.',
      };
    case 'wrong-approval':
      return {
        title: 'This link belongs to another request',
        message:
          'The link does not match this approval request, so nothing was changed. Open the link exactly as it appears in the ticket or message.',
      };
    case 'bad-signature':
      return {
        title: 'This approval link is not valid',
        message:
          'The link was altered or was not issued by this responder, so nothing was changed. Use the link from the ticket, or ask for a new one from the ticket.',
      };
    case 'malformed':
      return {
        title: 'This approval link is incomplete',
        message:
          'Part of the link is missing or damaged, so nothing was changed. Open the link from the ticket again, copying all of it, or ask for a new one.',
      };
  }
}

/** A same-origin path or an http(s) URL; anything else (e.g. `javascript:`) is refused. */
function safeHref(url: string): string | undefined {
  if (/^\/(?![/\\])/.test(url)) {
    return url;
  }
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** UTC, minute precision: the server cannot know the reader's zone and the page runs no script to find out. */
function formatTime(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    return 'unknown time';
  }
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;background:#f5f5f5}
main{max-width:40rem;margin:0 auto;padding:1rem;background:#fff;min-height:100vh}
h1{font-size:1.3rem;line-height:1.3;margin:.5rem 0}
h2{font-size:1.05rem;margin:1.25rem 0 .25rem}
.lead{font-weight:600}
.action{font-size:1.1rem;padding:.75rem;border-left:4px solid #0b5cad;background:#eef4fb;margin:.25rem 0}
dl{display:grid;grid-template-columns:minmax(7rem,auto) 1fr;gap:.25rem .75rem;margin:1rem 0}
dt{font-weight:600;color:#444}
dd{margin:0;overflow-wrap:anywhere}
code{font-size:.9em;overflow-wrap:anywhere}
label{display:block;font-weight:600;margin-top:1rem}
textarea{width:100%;font:inherit;padding:.5rem;margin-top:.25rem}
.buttons{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1rem}
button,.button{flex:1 1 8rem;min-height:3rem;font-size:1.15rem;font-weight:600;border:0;border-radius:.5rem;padding:.75rem 1rem;cursor:pointer;text-align:center;text-decoration:none;display:inline-block}
.approve{background:#107c10;color:#fff}
.reject{background:#c50f1f;color:#fff}
.button{background:#0b5cad;color:#fff}
.status{display:inline-block;font-weight:700;padding:.25rem .75rem;border-radius:1rem;background:#e1e1e1}
.status-approved{background:#dff6dd;color:#0e700e}
.status-rejected{background:#fde7e9;color:#a80000}
.status-expired{background:#fff4ce;color:#7a5a00}
.small{font-size:.9rem;color:#555}
q{font-style:italic}
.bar{display:flex;justify-content:space-between;gap:.5rem;margin:0;font-size:.9rem;color:#555}
.facts{margin:.5rem 0}
.sev{font-weight:600}
.warning{padding:.75rem;border-left:4px solid #c50f1f;background:#fde7e9}
@media (max-width:30rem){dl{grid-template-columns:1fr;gap:0}dd{margin-bottom:.4rem}}
`;

function layout(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${main}
</main>
</body>
</html>
`;
}
