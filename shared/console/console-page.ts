import { APPROVAL_PAGE_HEADERS, type RenderedPage } from '../approvals/approval-page';
import { CASE_LIST_PATH } from './case-page-url';
import { html, SafeHtml } from './html';

/** Who is looking, for the page header (the sign-out link is shown only to someone signed in). */
export interface Viewer {
  name: string;
  upn?: string;
}

/**
 * A case page: server-rendered HTML with inline CSS, no script, no external asset, readable on a phone. The
 * headers are the approval pages' (no script, no framing, forms post only to us, no Referer, no caching).
 */
export function renderConsolePage(page: { status: number; title: string; main: SafeHtml; viewer?: Viewer; headers?: Record<string, string> }): RenderedPage {
  const who = page.viewer
    ? html`<p class="who">Signed in as ${page.viewer.upn ?? page.viewer.name} · <a href="/.auth/logout?post_logout_redirect_uri=${encodeURIComponent(CASE_LIST_PATH)}">Sign out</a></p>`
    : '';
  const body = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${page.title} · Agent responders</title>
<style>${new SafeHtml(CSS)}</style>
</head>
<body>
<header class="top"><p class="brand"><a href="${CASE_LIST_PATH}">Agent responders · Cases</a></p>${who}</header>
<main>
${page.main}
</main>
</body>
</html>
`;
  return { status: page.status, headers: { ...APPROVAL_PAGE_HEADERS, ...page.headers }, body: body.value };
}

/** A page that only says something (sign in, not allowed, not found, refused), with a way back. */
export function messagePage(status: number, title: string, message: string, opts: { viewer?: Viewer; link?: { href: string; text: string } } = {}): RenderedPage {
  const link = opts.link ? html`<p><a class="button" href="${opts.link.href}">${opts.link.text}</a></p>` : '';
  return renderConsolePage({
    status,
    title,
    main: html`<h1 id="page-title">${title}</h1>
<p id="message">${message}</p>
${link}`,
    ...(opts.viewer ? { viewer: opts.viewer } : {}),
  });
}

/** UTC to the second, with the ISO form for machines: the server cannot know the reader's time zone. */
export function timeTag(iso: string | number | undefined): SafeHtml {
  const ms = typeof iso === 'number' ? iso : iso === undefined ? Number.NaN : Date.parse(iso);
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    return html`<span class="subtle">unknown time</span>`;
  }
  const stamp = new Date(ms).toISOString();
  return html`<time datetime="${stamp}">${stamp.slice(0, 19).replace('T', ' ')} UTC</time>`;
}

/** "850 ms", "4.2 s", "3 min 5 s", "2 h 10 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    return 'unknown';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  if (ms < 60_000) {
    return `${(ms / 1000).toFixed(1)} s`;
  }
  if (ms < 3_600_000) {
    return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  }
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

// Colours meet WCAG AA contrast (4.5:1) for their text; the focus ring is always visible for keyboard users.
const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;background:#f3f3f3}
a{color:#0a58a5}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #0a58a5;outline-offset:2px}
.top{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem 1rem;align-items:baseline;background:#1f2937;color:#fff;padding:.5rem 1rem}
.top p{margin:0}
.top a{color:#fff}
.brand{font-weight:700}
.who{font-size:.9rem;overflow-wrap:anywhere}
main{max-width:64rem;margin:0 auto;padding:1rem;background:#fff;min-height:100vh}
h1{font-size:1.4rem;line-height:1.3;margin:.25rem 0 .75rem;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem;border-bottom:1px solid #d6d6d6;padding-bottom:.25rem}
h3{font-size:1.05rem;margin:.75rem 0 .25rem;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:minmax(8rem,auto) 1fr;gap:.25rem .75rem;margin:.5rem 0}
dt{font-weight:600;color:#3b3b3b}
dd{margin:0;overflow-wrap:anywhere}
code{font-size:.9em;overflow-wrap:anywhere}
.subtle{color:#555}
.notice{padding:.75rem;border-left:4px solid #0e700e;background:#eef8ee;margin:.5rem 0}
.error{color:#a80000;font-weight:600}
.badge{display:inline-block;font-weight:700;font-size:.9rem;padding:.1rem .6rem;border-radius:1rem;background:#e1e1e1;color:#1b1b1b;white-space:nowrap}
.badge-good{background:#dff6dd;color:#0b5a0b}
.badge-wait{background:#fff4ce;color:#5c4400}
.badge-bad{background:#fde7e9;color:#a80000}
.badge-run{background:#e5f1fb;color:#004578}
.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin:.5rem 0 1rem}
.filters div{display:flex;flex-direction:column;flex:1 1 10rem}
label{font-weight:600}
input,select,textarea{font:inherit;padding:.45rem;border:1px solid #6b6b6b;border-radius:.25rem;background:#fff;color:#1b1b1b;min-height:2.75rem}
textarea{width:100%}
button,.button{min-height:2.75rem;font:inherit;font-weight:600;border:0;border-radius:.4rem;padding:.5rem 1rem;cursor:pointer;background:#0a58a5;color:#fff;text-decoration:none;display:inline-block}
.cases{list-style:none;padding:0;margin:0}
.cases li{border:1px solid #d6d6d6;border-radius:.5rem;padding:.75rem;margin:.5rem 0}
.cases .line{display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:baseline;margin:.15rem 0}
.cases .title{font-weight:600;overflow-wrap:anywhere}
.target{border:1px solid #d6d6d6;border-radius:.5rem;padding:.5rem .75rem;margin:.75rem 0}
.timeline{list-style:none;padding:0;margin:0}
.timeline li{border-left:3px solid #c8c8c8;padding:.25rem 0 .5rem .75rem;margin:0}
.timeline .what{font-weight:600}
.timeline .detail{overflow-wrap:anywhere}
form.release{margin-top:.5rem}
form.release button{margin-top:.5rem}
@media (max-width:30rem){dl{grid-template-columns:1fr}dd{margin-bottom:.4rem}main{padding:.75rem}}
`;
