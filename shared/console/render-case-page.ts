import type { RenderedPage } from '../approvals/approval-page';
import type { CaseApprovalView } from '../approvals/list-case-approvals';
import { KIND_LABEL } from '../graph/identity-kind';
import type { CaseBundle, TargetRecord } from '../store/case-model';
import { casePagePath, CASE_LIST_PATH } from './case-page-url';
import type { TimelineEntry } from './case-timeline';
import { formatDuration, renderConsolePage, timeTag, type Viewer } from './console-page';
import { html, type SafeHtml } from './html';
import { targetName } from './list-cases';
import { badge, CASE_STATUS, TARGET_STATUS } from './status-labels';

/** What the case page shows; built by `viewCase`, rendered here without I/O. */
export interface CasePageView {
  viewer: Viewer;
  bundle: CaseBundle;
  approvals: CaseApprovalView[];
  timeline: TimelineEntry[];
  /** Epoch ms, to tell live approvals from lapsed ones. */
  now: number;
  /** The release form's anti-forgery token for this viewer; absent when approvals are not configured. */
  releaseToken?: string;
  /** A release request that was refused, shown at its form. */
  releaseError?: { targetId: string; message: string; reason?: string };
  notice?: 'release-requested';
}

const APPROVAL_KIND: Record<CaseApprovalView['kind'], string> = {
  release: 'Release',
  'held-containment': 'Held containment',
  'lifecycle-delete': 'Deletion of an expired agent',
};

const APPROVAL_STATUS: Record<CaseApprovalView['status'], { label: string; tone: 'good' | 'wait' | 'bad' | 'plain' }> = {
  pending: { label: 'Waiting for a decision', tone: 'wait' },
  approved: { label: 'Approved', tone: 'good' },
  rejected: { label: 'Rejected', tone: 'bad' },
  expired: { label: 'Expired', tone: 'plain' },
};

function details(rows: [string, SafeHtml | string | undefined][], id?: string): SafeHtml {
  const shown = rows.filter((r): r is [string, SafeHtml | string] => r[1] !== undefined && r[1] !== '');
  return html`<dl${id === undefined ? '' : html` id="${id}"`}>${shown.map(([term, value]) => html`<dt>${term}</dt><dd>${value}</dd>`)}</dl>`;
}

/** The value the release form posts for a target: its object id when resolved, else its key. */
function releaseTargetId(t: TargetRecord): string {
  return t.objectId ?? t.key;
}

function releaseSection(view: CasePageView, t: TargetRecord, i: number): SafeHtml {
  if (t.status !== 'contained') {
    return html``;
  }
  const pending = view.approvals.find((a) => a.kind === 'release' && a.targetKey === t.key && a.status === 'pending' && Date.parse(a.expiresAt) > view.now);
  if (pending) {
    return html`<p class="subtle">A release was requested by ${pending.requestedBy} and waits for a decision (before ${timeTag(pending.expiresAt)}). The approvers have the link.</p>`;
  }
  if (view.releaseToken === undefined) {
    return html`<p class="subtle">Releases need approvals, which are not configured (PUBLIC_BASE_URL, APPROVAL_SIGNING_KEY).</p>`;
  }
  const error = view.releaseError?.targetId === releaseTargetId(t) ? view.releaseError : undefined;
  const errorId = `reason-${i}-error`;
  return html`<form id="release-${i}" class="release" method="post" action="${casePagePath(view.bundle.record.caseId)}/release" autocomplete="off">
<input type="hidden" name="af" value="${view.releaseToken}">
<input type="hidden" name="targetId" value="${releaseTargetId(t)}">
<label for="reason-${i}">Why should ${targetName(t)} be released? (required)</label>
${error ? html`<p id="${errorId}" class="error">${error.message}</p>` : ''}
<textarea id="reason-${i}" name="reason" rows="3" maxlength="1000" required${error ? html` aria-invalid="true" aria-describedby="${errorId}"` : ''}>${error?.reason ?? ''}</textarea>
<button id="release-${i}-submit" type="submit">Request release</button>
<p class="subtle">Nothing changes until an approver approves; you cannot approve your own request.</p>
</form>`;
}

function targetSection(view: CasePageView, t: TargetRecord, i: number): SafeHtml {
  const ttc = t.accessCutAt !== undefined ? Date.parse(t.accessCutAt) - Date.parse(t.receivedAt) : undefined;
  const ref = t.ref;
  const named = ref.by === 'objectId' ? `object id ${ref.objectId}` : ref.by === 'appId' ? `appId ${ref.appId}` : `UPN ${ref.upn}`;
  return html`<section class="target" aria-labelledby="target-${i}">
<h3 id="target-${i}">${targetName(t)} ${badge(TARGET_STATUS[t.status])}</h3>
${details([
  ['Kind', t.kind ? KIND_LABEL[t.kind] : 'not resolved'],
  ['Object id', t.objectId ? html`<code>${t.objectId}</code>` : undefined],
  ['Named by the alert as', named],
  ['Why', t.reason],
  ['Received', timeTag(t.receivedAt)],
  ['Access cut', t.accessCutAt ? timeTag(t.accessCutAt) : undefined],
  ['Time to contain', ttc !== undefined ? html`<strong class="ttc">${formatDuration(ttc)}</strong>` : html`<span class="subtle">not contained</span>`],
  ['Approved by', t.approvedBy],
  ['Handled by case', t.joinedCaseId ? html`<a href="${casePagePath(t.joinedCaseId)}">${t.joinedCaseId}</a>` : undefined],
])}
${releaseSection(view, t, i)}
</section>`;
}

function approvalItem(a: CaseApprovalView): SafeHtml {
  const decisions =
    a.decisions.length === 0
      ? html`<p class="subtle">No decision yet.</p>`
      : html`<ul>${a.decisions.map((d) => html`<li>${d.by} ${d.decision === 'approve' ? 'approved' : 'rejected'} at ${timeTag(d.at)}${d.comment ? html`: <q>${d.comment}</q>` : ''}</li>`)}</ul>`;
  return html`<li class="target">
<h3>${APPROVAL_KIND[a.kind]} ${badge(APPROVAL_STATUS[a.status])}</h3>
<p>${a.actionText}</p>
${details([
  ['Requested by', a.requestedBy],
  ['Reason', a.reason],
  ['Approvals', `${a.approvals} of ${a.quorum} needed`],
  ['Decide before', timeTag(a.expiresAt)],
  ['Request id', html`<code>${a.approvalId}</code>`],
])}
${decisions}
</li>`;
}

function timelineItem(e: TimelineEntry): SafeHtml {
  return html`<li>
<div>${e.at !== undefined ? timeTag(e.at) : html`<span class="subtle">not started</span>`} · ${e.who}</div>
<div class="what">${e.what} — ${e.result}</div>
${e.detail !== undefined ? html`<div class="detail">${e.detail}</div>` : ''}
${e.requestIds.length > 0 ? html`<div class="detail">Request id${e.requestIds.length > 1 ? 's' : ''}: ${e.requestIds.map((id, i) => html`${i > 0 ? ', ' : ''}<code>${id}</code>`)}</div>` : ''}
</li>`;
}

/** The case page: details, each identity with its time to contain and release form, approvals, and the timeline. */
export function renderCasePage(view: CasePageView, status = 200): RenderedPage {
  const r = view.bundle.record;
  const notice = view.notice === 'release-requested' ? html`<p id="notice" class="notice" role="status">Release requested. The approvers were told; nothing changes until one of them approves.</p>` : '';
  return renderConsolePage({
    status,
    title: r.title,
    viewer: view.viewer,
    main: html`<p><a href="${CASE_LIST_PATH}">All cases</a></p>
<h1 id="page-title">${r.title}</h1>
<p>${badge(CASE_STATUS[r.status], 'case-status')} ${r.severity} severity${r.mode === 'report-only' ? ' · report-only: nothing was changed' : ''}</p>
${notice}
${details(
  [
    ['Case', html`<code>${r.caseId}</code>`],
    ['Opened', timeTag(r.createdAt)],
    ['Last change', timeTag(r.updatedAt)],
    ['Started by', `${r.source} (${r.kind})`],
    ['Incident', r.incidentArmId ? html`<code>${r.incidentArmId}</code>` : undefined],
    ['Alert', r.alertId ? html`<code>${r.alertId}</code>` : undefined],
    ['Sentinel severity', r.verifiedSeverity],
    ['Ticket', r.ticket && r.ticket.provider !== 'none' ? `${r.ticket.provider} ${r.ticket.number ?? r.ticket.id}` : undefined],
    ['Note', r.note],
    ['Related case', r.relatedCaseId ? html`<a href="${casePagePath(r.relatedCaseId)}">${r.relatedCaseId}</a>` : undefined],
  ],
  'case-details',
)}
<h2 id="targets">Identities</h2>
${view.bundle.targets.length === 0 ? html`<p class="subtle">This case names no identity.</p>` : view.bundle.targets.map((t, i) => targetSection(view, t, i))}
${r.rejected.length > 0 ? html`<h2 id="rejected">Entities not acted on</h2><ul>${r.rejected.map((e) => html`<li>${e.kind}: ${e.reason}</li>`)}</ul>` : ''}
<h2 id="approvals">Approvals and decisions</h2>
${view.approvals.length === 0 ? html`<p class="subtle">No approval was asked for on this case.</p>` : html`<ul class="cases">${view.approvals.map(approvalItem)}</ul>`}
<h2 id="timeline">Timeline</h2>
<ol id="timeline-entries" class="timeline">${view.timeline.map(timelineItem)}</ol>`,
  });
}
