import { describe, expect, it } from 'vitest';
import { checkAdaptiveCard, checkTeamsMessage } from '../../../dev/simulator/teams-routes';
import type { ApprovalEntity } from '../../../shared/approvals/approval-entity';
import { approvalLink } from '../../../shared/approvals/approval-link';
import { casePageUrl } from '../../../shared/console/case-page-url';
import { cardEventOf } from '../../../shared/approvals/announce-approval';
import { teamsMessageFor } from '../../../shared/teams/teams-message-for';

const CONFIG = { PUBLIC_BASE_URL: 'https://responders.contoso.example', APPROVAL_SIGNING_KEY: 'k'.repeat(48) };
const HOSTILE = '[Approve here](https://evil.example/steal) <img src=x onerror=alert(1)> **urgent**\u0007\u202e';
const NOW = Date.parse('2026-12-01T10:00:00Z');

function approval(over: Partial<ApprovalEntity> = {}): ApprovalEntity {
  return {
    id: 'a1b2c3d4e5f60718293a4b5c',
    kind: 'release',
    status: 'pending',
    quorum: 1,
    expiresAt: NOW + 24 * 3_600_000,
    requestedBy: 'c0c0a000-0000-4000-8000-000000000001',
    requestedByName: 'analyst@contoso.example',
    excluded: ['da7a0000-0000-4000-8000-000000000001'],
    decisions: [],
    caseId: '3f2c1d0e-0000-4000-8000-000000000001',
    targetKey: 'oid:a9e00000-0000-4000-8000-000000000001',
    targetId: 'a9e00000-0000-4000-8000-000000000001',
    targetName: HOSTILE,
    targetKind: 'agentIdentity',
    actionText: `Re-enable agent identity "${HOSTILE}", dismiss its risk in Entra ID Protection, and note the release on the incident and ticket.`,
    title: 'Release a contained identity',
    reason: HOSTILE,
    approversText: 'Sam SOC Lead (soc-lead@contoso.example) or Morgan (sec-manager@contoso.example). Membership is checked…',
    createdAt: new Date(NOW).toISOString(),
    nonce: 'bm9uY2Utbm9uY2Utbm9uY2U',
    ...over,
  };
}

const decided = (status: 'approved' | 'rejected') =>
  approval({ status, decidedAt: new Date(NOW + 60_000).toISOString(), decisions: [{ by: 'a99a0000-0000-4000-8000-000000000001', name: 'soc-lead@contoso.example', decision: status === 'approved' ? 'approve' : 'reject', at: NOW + 60_000, comment: HOSTILE }] });

const MOMENTS = {
  requested: approval(),
  progress: approval({ quorum: 2, decisions: [{ by: 'a99a0000-0000-4000-8000-000000000001', name: 'soc-lead@contoso.example', decision: 'approve', at: NOW + 1000 }] }),
  approved: decided('approved'),
  rejected: decided('rejected'),
  expired: approval({ status: 'expired' }),
} as const;

/** Every object in a card, depth first. */
function nodes(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) {
    return value.flatMap(nodes);
  }
  if (typeof value === 'object' && value !== null) {
    return [value as Record<string, unknown>, ...Object.values(value).flatMap(nodes)];
  }
  return [];
}

describe('the approval cards posted to Teams', () => {
  for (const [moment, a] of Object.entries(MOMENTS)) {
    const message = teamsMessageFor(CONFIG, a, cardEventOf(a));

    it(`are valid Adaptive Cards 1.4 in a Workflows webhook body (${moment})`, () => {
      expect(message).toMatchObject({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: { type: 'AdaptiveCard', version: '1.4' } }] });
      expect(checkTeamsMessage(message)).toEqual([]);
    });

    it(`only link to the signed-in pages and never decide in Teams (${moment})`, () => {
      const all = nodes(message);
      const actions = all.filter((n) => typeof n['type'] === 'string' && String(n['type']).startsWith('Action.'));
      expect(actions.map((n) => n['type'])).toEqual(actions.map(() => 'Action.OpenUrl'));
      expect(all.some((n) => n['type'] === 'Action.Submit' || n['type'] === 'Action.Execute' || n['type'] === 'Action.ShowCard' || String(n['type']).startsWith('Input.'))).toBe(false);
      const urls = actions.map((n) => n['url']);
      const caseUrl = casePageUrl(CONFIG, a.caseId);
      expect(urls).toEqual(moment === 'requested' || moment === 'progress' ? [approvalLink(CONFIG, a), caseUrl] : [caseUrl]);
    });

    it(`carry attacker text only as plain text runs, never as Markdown (${moment})`, () => {
      const all = nodes(message);
      const markdownText = all.filter((n) => n['type'] === 'TextBlock' || n['type'] === 'Fact').map((n) => JSON.stringify(n));
      expect(markdownText.join('\n')).not.toContain('evil.example');
      const runs = all.filter((n) => n['type'] === 'TextRun').map((n) => String(n['text']));
      expect(runs.some((t) => t.includes('[Approve here](https://evil.example/steal) <img src=x onerror=alert(1)> **urgent**'))).toBe(true);
      expect(runs.join('')).not.toMatch(/[\u0007\u202e]/);
    });

    it(`hold no token beyond the link and no approver address beyond what the page shows (${moment})`, () => {
      const text = JSON.stringify(message);
      expect(text).not.toContain('sec-manager@contoso.example');
      expect(text).not.toContain(a.nonce);
      expect(text).not.toContain(CONFIG.APPROVAL_SIGNING_KEY);
      expect(text.match(/token=/g)?.length ?? 0).toBe(moment === 'requested' || moment === 'progress' ? 1 : 0);
      if (moment === 'requested' || moment === 'expired') {
        expect(text).not.toContain('soc-lead@contoso.example');
      }
    });
  }

  it('say how many more approvals a two-person rule needs, and who decided an outcome', () => {
    expect(JSON.stringify(teamsMessageFor(CONFIG, MOMENTS.progress, 'progress'))).toContain('1 of 2 approvals given; 1 more needed');
    const approved = JSON.stringify(teamsMessageFor(CONFIG, MOMENTS.approved, 'outcome'));
    expect(approved).toContain('Approved: Release a contained identity');
    expect(approved).toContain('soc-lead@contoso.example at 2026-12-01 10:01 UTC');
    expect(JSON.stringify(teamsMessageFor(CONFIG, MOMENTS.expired, 'outcome'))).toContain('Expired without a decision');
  });

  it('keep a huge reason from making the message too big for Teams', () => {
    const message = teamsMessageFor(CONFIG, approval({ reason: 'x'.repeat(50_000), targetName: 'y'.repeat(50_000) }), 'requested');
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThan(8_000);
    expect(checkTeamsMessage(message)).toEqual([]);
  });

  it('leave out a link that is not https', () => {
    const message = teamsMessageFor({ ...CONFIG, PUBLIC_BASE_URL: 'javascript:alert(1)//' }, approval(), 'requested');
    expect(nodes(message).filter((n) => n['type'] === 'Action.OpenUrl')).toEqual([]);
    expect(checkTeamsMessage(message)).toEqual([]);
  });
});

describe('the simulator’s card check (so the tests above can fail)', () => {
  it('refuses a card the 1.4 schema refuses, a later version, Action.Submit, or a body that is not a message', () => {
    expect(checkAdaptiveCard({ type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock' }] })).not.toEqual([]);
    expect(checkAdaptiveCard({ type: 'AdaptiveCard', version: '1.4', msteams: { width: 'Full' }, body: [] }).join()).toContain('msteams');
    expect(checkAdaptiveCard({ type: 'AdaptiveCard', version: '1.5', body: [] }).join()).toContain('1.0 to 1.4');
    expect(checkAdaptiveCard({ type: 'AdaptiveCard', version: '1.4', body: [{ type: 'Table', columns: [] }] })).not.toEqual([]);
    expect(checkAdaptiveCard({ type: 'AdaptiveCard', version: '1.4', body: [], actions: [{ type: 'Action.Submit', title: 'Approve' }] }).join()).toContain('Action.Submit');
    expect(checkTeamsMessage({ type: 'AdaptiveCard', version: '1.4', body: [] })).not.toEqual([]);
    expect(checkTeamsMessage({ type: 'message', attachments: [] })).not.toEqual([]);
  });
});
