import { describe, expect, it } from 'vitest';
import { renderApprovalPage, type ApprovalPageView, type ApprovalSummary } from '../../../shared/approvals/approval-page';
import { escapeHtml } from '../../../shared/approvals/escape-html';

const EVIL = `"><script>alert(1)</script><img src=x onerror=alert(2)>'&`;
const now = Date.UTC(2025, 5, 1, 12, 0, 0);

const summary: ApprovalSummary = {
  id: 'apr-1',
  title: 'Release agent identity Travel Bot',
  actionText: 'Re-enable sign-in for the agent identity Travel Bot.',
  targetName: 'Travel Bot',
  targetKind: 'agent identity',
  targetId: '11111111-1111-1111-1111-111111111111',
  requestedBy: 'sam@contoso.example',
  reason: 'False positive confirmed by SOC',
  expiresAt: now + 86_400_000,
  quorum: 2,
  approvalsSoFar: 1,
  approvers: 'members of the Agent Responders Approvers group',
};

const confirm: ApprovalPageView = {
  kind: 'confirm',
  approval: summary,
  formAction: '/api/approvals/apr-1',
  linkToken: 'payload.signature',
  antiForgeryToken: '1748779200000.mac',
  signedInAs: 'ada@contoso.example',
};

const evilSummary: ApprovalSummary = {
  ...summary,
  id: EVIL,
  title: EVIL,
  actionText: EVIL,
  targetName: EVIL,
  targetKind: EVIL,
  targetId: EVIL,
  requestedBy: EVIL,
  reason: EVIL,
  approvers: EVIL,
};

const allViews: ApprovalPageView[] = [
  confirm,
  { kind: 'sign-in', signInUrl: '/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fapprovals%2Fapr-1' },
  { kind: 'outcome', signedInAs: 'ada@contoso.example', approval: summary, status: 'approved', decisions: [{ by: 'x', name: 'Ada', decision: 'approve', at: now }] },
  { kind: 'refused', status: 403, title: 'You cannot decide this request', message: 'Ask another approver.' },
  { kind: 'invalid-link', reason: 'bad-signature' },
  { kind: 'recorded', signedInAs: 'ada@contoso.example', approval: summary, decision: 'approve', status: 'pending', decisions: [] },
];

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(escapeHtml(42)).toBe('42');
    expect(escapeHtml('plain words')).toBe('plain words');
  });
});

describe('renderApprovalPage', () => {
  it('sends the security headers on every page', () => {
    for (const view of allViews) {
      const page = renderApprovalPage(view);
      expect(page.headers).toEqual({
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
      });
      expect(page.body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      expect(page.body).toContain('id="approval-title"');
      expect(page.body).not.toMatch(/<script|<link|src=|javascript:/i);
    }
  });

  it('uses the status each page stands for', () => {
    expect(allViews.map((v) => renderApprovalPage(v).status)).toEqual([200, 401, 200, 403, 400, 200]);
    expect(renderApprovalPage({ kind: 'invalid-link', reason: 'expired' }).status).toBe(410);
    expect(renderApprovalPage({ kind: 'refused', status: 409, title: 't', message: 'm' }).status).toBe(409);
  });

  it('renders the confirmation form with both tokens, two submit buttons and a reason only Reject requires', () => {
    const { body } = renderApprovalPage(confirm);
    expect(body).toContain('<form method="post" action="/api/approvals/apr-1"');
    expect(body).toContain('<input type="hidden" name="token" value="payload.signature">');
    expect(body).toContain('<input type="hidden" name="af" value="1748779200000.mac">');
    expect(body).toMatch(/<button id="approve"[^>]*type="submit" name="decision" value="approve" formnovalidate>/);
    expect(body).toMatch(/<button id="reject"[^>]*type="submit" name="decision" value="reject">/);
    expect(body).toContain('<textarea id="comment" name="comment" rows="2" maxlength="1000" required>');
    expect(body).toContain('<a id="sign-out" href="/.auth/logout?post_logout_redirect_uri=%2F">Sign out</a>');
    expect(body).toContain('<p id="action" class="action">Re-enable sign-in for the agent identity Travel Bot.</p>');
    expect(body).toContain('1 of 2 needed');
    expect(body).toContain('2025-06-02 12:00 UTC');
    expect(body).toContain('Signed in as ada@contoso.example');
  });

  it('escapes attacker-controlled text in every field of every page', () => {
    const views: ApprovalPageView[] = [
      { ...confirm, approval: evilSummary, linkToken: EVIL, antiForgeryToken: EVIL, signedInAs: EVIL, formAction: `/x${EVIL}` },
      { kind: 'sign-in', signInUrl: `/.auth/login/aad?x=${EVIL}` },
      {
        kind: 'outcome', signedInAs: 'ada@contoso.example',
        approval: evilSummary,
        status: 'rejected',
        decisions: [{ by: EVIL, name: EVIL, decision: 'reject', at: now, comment: EVIL }],
      },
      { kind: 'outcome', signedInAs: 'ada@contoso.example', approval: evilSummary, status: 'approved', decisions: [{ by: EVIL, decision: 'approve', at: now }] },
      { kind: 'refused', status: 403, title: EVIL, message: EVIL },
      { kind: 'recorded', signedInAs: 'ada@contoso.example', approval: evilSummary, decision: 'reject', status: 'rejected', decisions: [{ by: EVIL, decision: 'reject', at: now, comment: EVIL }] },
    ];
    for (const view of views) {
      const { body } = renderApprovalPage(view);
      expect(body).not.toContain('<script');
      expect(body).not.toContain('<img');
      expect(body).not.toContain('alert(2)>');
      expect(body).not.toContain(`>'&`);
      expect(body).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&#39;&amp;');
    }
  });

  it('refuses script URLs for the sign-in link and form action', () => {
    const signIn = renderApprovalPage({ kind: 'sign-in', signInUrl: 'javascript:alert(1)' }).body;
    expect(signIn).toContain('href="/.auth/login/aad"');
    const protocolRelative = renderApprovalPage({ kind: 'sign-in', signInUrl: '//evil.example/login' }).body;
    expect(protocolRelative).not.toContain('evil.example');
    const form = renderApprovalPage({ ...confirm, formAction: 'javascript:alert(1)' }).body;
    expect(form).toContain('<form method="post" autocomplete="off">');
    expect(form).not.toContain('javascript:');
  });

  it('tells the reader of an expired link what to do next', () => {
    const page = renderApprovalPage({ kind: 'invalid-link', reason: 'expired' });
    expect(page.body).toContain('<h1 id="approval-title">This approval link has expired</h1>');
    expect(page.body).toMatch(/<p id="message">[^<]*ask for a new link from the ticket/);
  });

  it('explains each kind of bad link in its own words', () => {
    const messages = (['malformed', 'bad-signature', 'wrong-approval', 'expired'] as const).map(
      (reason) => /<p id="message">([^<]*)<\/p>/.exec(renderApprovalPage({ kind: 'invalid-link', reason }).body)?.[1],
    );
    expect(new Set(messages).size).toBe(4);
    for (const message of messages) {
      expect(message?.toLowerCase()).toContain('nothing was changed');
    }
  });

  it('shows the outcome and who decided on a later visit', () => {
    const { body } = renderApprovalPage({
      kind: 'outcome', signedInAs: 'ada@contoso.example',
      approval: { ...summary, approvalsSoFar: 2 },
      status: 'approved',
      decisions: [
        { by: 'a', name: 'Ada', decision: 'approve', at: now },
        { by: 'b', name: 'Bob', decision: 'approve', at: now + 60_000, comment: 'verified' },
      ],
    });
    expect(body).toContain('<p id="outcome" class="status status-approved">Approved</p>');
    expect(body).toContain('Ada approved at 2025-06-01 12:00 UTC');
    expect(body).toContain('Bob approved at 2025-06-01 12:01 UTC<br><q>verified</q>');
    expect(body).not.toContain('<form');
  });

  it('after a decision says what happens next', () => {
    const waiting = renderApprovalPage({ kind: 'recorded', signedInAs: 'ada@contoso.example', approval: summary, decision: 'approve', status: 'pending', decisions: [] });
    expect(waiting.body).toMatch(/<p id="message">Your approval is recorded\. 1 of 2 approvals so far; waiting for 1 more person\./);
    expect(waiting.body).toContain('id="outcome"');
    const done = renderApprovalPage({ kind: 'recorded', signedInAs: 'ada@contoso.example', approval: summary, decision: 'approve', status: 'approved', decisions: [] });
    expect(done.body).toContain('the change will now run');
    const rejected = renderApprovalPage({ kind: 'recorded', signedInAs: 'ada@contoso.example', approval: summary, decision: 'reject', status: 'rejected', decisions: [] });
    expect(rejected.body).toContain('nothing will change');
  });

  it('survives an impossible expiry time', () => {
    const { body } = renderApprovalPage({ ...confirm, approval: { ...summary, expiresAt: Number.NaN } });
    expect(body).toContain('unknown time');
  });
});
