import { describe, expect, it } from 'vitest';
import type { CaseBundle, TargetRecord } from '../../../shared/store/case-model';
import { html } from '../../../shared/console/html';
import { renderCasePage, type CasePageView } from '../../../shared/console/render-case-page';
import { renderCaseList } from '../../../shared/console/render-case-list';
import { caseTimeline } from '../../../shared/console/case-timeline';
import { casePageUrl } from '../../../shared/console/case-page-url';
import { sameOriginPath } from '../../../shared/console/case-viewer-access';

const HOSTILE = `"><script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>'`;
const T0 = '2026-12-01T10:00:00.000Z';

function target(over: Partial<TargetRecord> = {}): TargetRecord {
  return {
    key: 'oid:a9e00000-0000-4000-8000-000000000001',
    ref: { by: 'objectId', objectId: 'a9e00000-0000-4000-8000-000000000001', name: HOSTILE },
    plan: 'contain',
    round: 0,
    status: 'contained',
    objectId: 'a9e00000-0000-4000-8000-000000000001',
    kind: 'agentIdentity',
    displayName: HOSTILE,
    receivedAt: T0,
    accessCutAt: '2026-12-01T10:00:02.400Z',
    ...over,
  };
}

function bundle(): CaseBundle {
  return {
    etag: '*',
    record: {
      caseId: '3f2c1d0e-0000-4000-8000-000000000001',
      kind: 'containment',
      source: 'incident',
      createdAt: T0,
      updatedAt: T0,
      status: 'done',
      mode: 'enforce',
      title: HOSTILE,
      severity: 'High',
      dedupeKey: 'x',
      requestedBy: 'system',
      rejected: [{ path: 'p', kind: HOSTILE, reason: HOSTILE }],
      note: HOSTILE,
    },
    targets: [target()],
    steps: [
      { stepId: 's1', targetKey: 'oid:a9e00000-0000-4000-8000-000000000001', action: 'disable', state: 'done', attempts: 2, description: HOSTILE, startedAt: '2026-12-01T10:00:01.000Z', endedAt: '2026-12-01T10:00:02.400Z', requestIds: ['r-1', HOSTILE], errorMessage: undefined },
      { stepId: 's2', targetKey: 'case', action: 'ticket', state: 'pending', attempts: 0, description: 'Open a ticket', requestIds: [] },
    ],
  };
}

function view(over: Partial<CasePageView> = {}): CasePageView {
  const b = bundle();
  return {
    viewer: { name: HOSTILE, upn: 'analyst@contoso.example' },
    bundle: b,
    approvals: [
      { approvalId: 'a1', kind: 'release', targetKey: 'oid:x', status: 'rejected', actionText: HOSTILE, requestedBy: HOSTILE, reason: HOSTILE, quorum: 1, approvals: 0, expiresAt: T0, decisions: [{ by: HOSTILE, decision: 'reject', at: T0, comment: HOSTILE }] },
    ],
    timeline: caseTimeline(b, [{ action: 'approval.viewed', scope: b.record.caseId, actor: 'a99a0000-0000-4000-8000-000000000001', result: 'info', detail: HOSTILE, at: '2026-12-01T10:00:03.000Z', requestId: HOSTILE }], new Map([['a99a0000-0000-4000-8000-000000000001', HOSTILE]])),
    now: Date.parse(T0),
    releaseToken: `1.${HOSTILE}`,
    releaseError: { targetId: 'a9e00000-0000-4000-8000-000000000001', message: 'Give a reason', reason: HOSTILE },
    ...over,
  };
}

describe('the case pages’ HTML', () => {
  it('escapes every value that comes from the tenant, an alert or a person', () => {
    for (const page of [renderCasePage(view()), renderCaseList({ name: HOSTILE }, { status: 'all', since: 'any', q: HOSTILE }, { rows: [{ record: bundle().record, targets: [target()] }], matched: 1, incomplete: false })]) {
      expect(page.body).not.toMatch(/<script|<img|<a href="javascript|onerror=alert\(2\)>/i);
      expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page.body).toContain('&quot;&gt;');
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    }
  });

  it('escapes by default: only html`` output is inserted as markup', () => {
    expect(html`<p>${'<b>'}</p>${html`<i>${'&'}</i>`}${['<', html`<br>`]}${undefined}${false}${3}`.value).toBe('<p>&lt;b&gt;</p><i>&amp;</i>&lt;<br>3');
  });

  it('shows the time to contain, the request ids, and the timeline in order with steps not started last', () => {
    const page = renderCasePage(view({ releaseError: undefined }));
    expect(page.body).toContain('<strong class="ttc">2.4 s</strong>');
    expect(page.body).toContain('<code>r-1</code>');
    expect(page.body).toContain('2 attempts');
    const order = ['Case opened', 'Approval page opened', 'Open a ticket'].map((t) => page.body.indexOf(t));
    expect(order.every((i, n) => i > 0 && (n === 0 || i > (order[n - 1] ?? 0)))).toBe(true);
  });

  it('offers the release form only for a contained identity, with the viewer’s token and a labelled, required reason', () => {
    const page = renderCasePage(view({ releaseError: undefined, releaseToken: '123.abc' }));
    expect(page.body).toContain('<input type="hidden" name="af" value="123.abc">');
    expect(page.body).toMatch(/<label for="reason-0">Why should .* be released\? \(required\)<\/label>/);
    expect(page.body).toMatch(/<textarea id="reason-0" name="reason" rows="3" maxlength="1000" required>/);
    const released = view({ releaseError: undefined });
    released.bundle.targets = [target({ status: 'released' })];
    expect(renderCasePage(released).body).not.toContain('<form');
    expect(renderCasePage(view({ releaseToken: undefined, releaseError: undefined })).body).toContain('Releases need approvals, which are not configured');
  });

  it('marks a refused reason on its field, keeping what was typed', () => {
    const page = renderCasePage(view(), 400);
    expect(page.status).toBe(400);
    expect(page.body).toContain('aria-invalid="true" aria-describedby="reason-0-error"');
    expect(page.body).toContain('<p id="reason-0-error" class="error">Give a reason</p>');
  });
});

describe('links of the case pages', () => {
  it('point tickets and comments at the signed-in case page, not the JSON API', () => {
    expect(casePageUrl({ PUBLIC_BASE_URL: 'https://responders.contoso.example' }, '3f2c1d0e-0000-4000-8000-000000000001')).toBe('https://responders.contoso.example/api/console/cases/3f2c1d0e-0000-4000-8000-000000000001');
    expect(casePageUrl({ PUBLIC_BASE_URL: undefined }, 'x')).toBeUndefined();
  });

  it('send people back only to a path on this site', () => {
    expect(sameOriginPath('/api/console/cases?q=a')).toBe('/api/console/cases?q=a');
    for (const evil of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)']) {
      expect(sameOriginPath(evil)).toBe('/');
    }
  });
});
