import type { RenderedPage } from '../approvals/approval-page';
import { KIND_LABEL } from '../graph/identity-kind';
import { casePagePath, CASE_LIST_PATH } from './case-page-url';
import { STATUS_FILTERS, type CaseListQuery } from './case-list-query';
import { renderConsolePage, timeTag, type Viewer } from './console-page';
import { html, type SafeHtml } from './html';
import { CASES_SHOWN, targetName, type CaseList, type CaseListRow } from './list-cases';
import { badge, CASE_STATUS, TARGET_STATUS } from './status-labels';

function option(value: string, label: string, selected: string): SafeHtml {
  return value === selected ? html`<option value="${value}" selected>${label}</option>` : html`<option value="${value}">${label}</option>`;
}

/** The filter form: a plain GET, so the filtered list is a link an analyst can share. */
export function filterForm(query: CaseListQuery): SafeHtml {
  const statuses = Object.entries(STATUS_FILTERS).map(([value, f]) => option(value, f.label, query.status));
  return html`<form class="filters" method="get" action="${CASE_LIST_PATH}" role="search" aria-label="Filter cases">
<div><label for="status">Status</label><select id="status" name="status">${statuses}</select></div>
<div><label for="since">Opened</label><select id="since" name="since">${option('any', 'Any time', query.since)}${option('24h', 'In the last 24 hours', query.since)}</select></div>
<div><label for="q">Identity</label><input id="q" name="q" type="search" value="${query.q}" maxlength="256" aria-describedby="q-hint" autocomplete="off"></div>
<div><button id="apply" type="submit">Show cases</button></div>
</form>
<p id="q-hint" class="subtle">Search by an identity's object id, user principal name, or part of its display name.</p>`;
}

function row(r: CaseListRow): SafeHtml {
  const rec = r.record;
  const identities =
    r.targets.length === 0
      ? html`<span class="subtle">no identity</span>`
      : r.targets.map((t, i) => html`${i > 0 ? ', ' : ''}${targetName(t)} <span class="subtle">(${t.kind ? KIND_LABEL[t.kind] : 'unresolved'}, ${TARGET_STATUS[t.status].label.toLowerCase()})</span>`);
  return html`<li>
<div class="line"><a class="title" href="${casePagePath(rec.caseId)}">${rec.title}</a> ${badge(CASE_STATUS[rec.status])}</div>
<div class="line"><span><strong>Identity:</strong> ${identities}</span></div>
<div class="line subtle">${timeTag(rec.createdAt)} · ${rec.severity} severity · ${rec.kind}${rec.mode === 'report-only' ? ' · report-only' : ''}</div>
</li>`;
}

function summary(list: CaseList): string {
  const shown = list.rows.length;
  const base = list.matched === 0 ? 'No case matches these filters.' : list.matched > shown ? `${list.matched} cases match; the newest ${CASES_SHOWN} are shown.` : `${list.matched} ${list.matched === 1 ? 'case matches' : 'cases match'}.`;
  return list.incomplete ? `${base} Not every case could be read for this list: narrow it (last 24 hours, a status, or an object id) to be sure nothing is missed.` : base;
}

/** The case list page (200), or the filter form with the problem when a filter value is unknown (400). */
export function renderCaseList(viewer: Viewer, query: CaseListQuery, list: CaseList): RenderedPage {
  return renderConsolePage({
    status: 200,
    title: 'Cases',
    viewer,
    main: html`<h1 id="page-title">Cases</h1>
${filterForm(query)}
<p id="summary" role="status">${summary(list)}</p>
${list.rows.length > 0 ? html`<ol id="cases" class="cases" aria-labelledby="page-title">${list.rows.map(row)}</ol>` : ''}`,
  });
}

/** A filter the form never sends (a hand-edited link): say which, and offer the unfiltered form. */
export function renderBadCaseListQuery(viewer: Viewer, problems: { field: string; message: string }[]): RenderedPage {
  return renderConsolePage({
    status: 400,
    title: 'Filter not understood',
    viewer,
    main: html`<h1 id="page-title">Filter not understood</h1>
<ul id="message" class="error">${problems.map((p) => html`<li>${p.field}: ${p.message}</li>`)}</ul>
${filterForm({ status: 'all', since: 'any', q: '' })}`,
  });
}
