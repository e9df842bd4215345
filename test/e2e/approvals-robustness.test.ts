import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { decodeKey } from '../../shared/config';
import { issueAntiForgeryToken } from '../../shared/approvals/anti-forgery';
import { signApprovalToken } from '../../shared/approvals/approval-token';
import type { ApprovalEntity } from '../../shared/approvals/approval-entity';
import type { RecordTable } from '../../shared/store/record-table';
import { decisionBody, pageText, parseApprovalLink, readApprovalForm } from '../helpers/approval-form';
import { approvalsOf, browse, signInAs, askRelease } from '../helpers/approval-http';
import { incidentNaming } from '../helpers/incident-naming';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { E2E_GRAPH_FEATURES } from '../helpers/planned-permissions';

const incident = JSON.parse(readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;

/**
 * Every way to reach the decision endpoint without a genuine, fresh, signed-in approver's form: none of them
 * may decide. Two pending releases: `a` (the demo agent) stays undecided throughout; `b` is decided once,
 * to replay and to cross with `a`.
 */
describe('approval endpoints against forged, expired, replayed and crossed tokens', () => {
  // The second case contains a classic service principal: disabling it needs the sp-disable-any opt-in.
  const stack = useStack({ features: [...E2E_GRAPH_FEATURES, 'sp-disable-any'] });
  let approvals: RecordTable<ApprovalEntity>;
  let key: Buffer;
  let a: { id: string; token: string; path: string };
  let b: { id: string; token: string; path: string };
  let socLead: string;
  let secManager: string;

  async function approval(id: string): Promise<ApprovalEntity> {
    const stored = await approvals.get(id, 'approval');
    if (!stored) {
      throw new Error(`no approval ${id}`);
    }
    return stored.value;
  }

  async function nothingDecided(): Promise<void> {
    expect(await approval(a.id)).toMatchObject({ status: 'pending', decisions: [] });
    const agent = (await (await fetch(`${stack.sim.url}/_sim/objects/${DEMO.agents.invoice}`)).json()) as { accountEnabled: boolean };
    expect(agent.accountEnabled).toBe(false);
  }

  async function afFor(approvalId: string, principalId: string, now = Date.now()): Promise<string> {
    return issueAntiForgeryToken(key, { approvalId, principalId, nonce: (await approval(approvalId)).nonce, now });
  }

  beforeAll(async () => {
    approvals = await approvalsOf(stack);
    key = decodeKey(stack.env['APPROVAL_SIGNING_KEY'] ?? '');
    const first = String((await stack.post('/api/alerts', incident)).body['caseId']);
    const other = incidentNaming(51, [{ id: DEMO.plainSp, name: 'Payroll Export Service' }]);
    stack.sim.state.putIncident(other.seed);
    const second = String((await stack.post('/api/alerts', other.trigger)).body['caseId']);
    await Promise.all([stack.waitForCase(first, settled), stack.waitForCase(second, settled)]);
    const askA = await askRelease(stack, first, { targetId: DEMO.agents.invoice, reason: 'robustness A' });
    const askB = await askRelease(stack, second, { targetId: DEMO.plainSp, reason: 'robustness B' });
    a = parseApprovalLink(String(askA.body['approvalUrl']));
    b = parseApprovalLink(String(askB.body['approvalUrl']));
    [socLead, secManager] = await Promise.all([signInAs(stack.url, DEMO.approvers[0]), signInAs(stack.url, DEMO.approvers[1])]);
  });

  it('refuses forged and altered link tokens with a clear page, on GET and POST', async () => {
    const [payload = '', signature = ''] = a.token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = [
      `${payload}.${randomBytes(32).toString('base64url')}`, // made-up signature
      `${Buffer.from(JSON.stringify({ ...claims, expiresAt: Number(claims['expiresAt']) + 86_400_000 })).toString('base64url')}.${signature}`, // altered claims
      signApprovalToken(randomBytes(32), claims as { approvalId: string; expiresAt: number; nonce: string }), // someone else's key
      `${payload}.${signature}x`, // damaged
      '',
    ];
    for (const token of forged) {
      const page = await browse(stack.url, `/api/approvals/${a.id}?token=${encodeURIComponent(token)}`, { cookie: socLead });
      expect(page.status, token).toBe(400);
      expect(pageText(page.html)).toMatch(/This approval link is (not valid|incomplete)/);
      const posted = await browse(stack.url, `/api/approvals/${a.id}`, { cookie: socLead, form: decisionBody({ token, af: await afFor(a.id, DEMO.approvers[0]) }, 'approve') });
      expect([400, 403]).toContain(posted.status);
      expect(readApprovalForm(posted.html)).toBeUndefined();
    }
    await nothingDecided();
  });

  it('refuses a genuinely signed link whose time is up', async () => {
    const expired = signApprovalToken(key, { approvalId: a.id, expiresAt: Date.now() - 1000, nonce: (await approval(a.id)).nonce });
    const page = await browse(stack.url, `/api/approvals/${a.id}?token=${encodeURIComponent(expired)}`, { cookie: socLead });
    expect(page.status).toBe(410);
    expect(pageText(page.html)).toContain('This approval link has expired');
    const posted = await browse(stack.url, `/api/approvals/${a.id}`, { cookie: socLead, form: decisionBody({ token: expired, af: await afFor(a.id, DEMO.approvers[0]) }, 'approve') });
    expect(posted.status).toBe(410);
    await nothingDecided();
  });

  it("refuses one request's link or form on another request", async () => {
    const crossedLink = await browse(stack.url, `/api/approvals/${a.id}?token=${encodeURIComponent(b.token)}`, { cookie: socLead });
    expect(crossedLink.status).toBe(400);
    expect(pageText(crossedLink.html)).toContain('This link belongs to another request');
    const crossedPost = await browse(stack.url, `/api/approvals/${a.id}`, { cookie: socLead, form: decisionBody({ token: b.token, af: await afFor(b.id, DEMO.approvers[0]) }, 'approve') });
    expect(crossedPost.status).toBe(400);
    const crossedForm = await browse(stack.url, `/api/approvals/${a.id}`, { cookie: socLead, form: decisionBody({ token: a.token, af: await afFor(b.id, DEMO.approvers[0]) }, 'approve') });
    expect(crossedForm.status).toBe(403);
    await nothingDecided();
  });

  it('refuses a form without, with a stale or with somebody else’s anti-forgery token', async () => {
    const noAf = await browse(stack.url, `/api/approvals/${a.id}`, { cookie: socLead, form: new URLSearchParams({ token: a.token, decision: 'approve' }).toString() });
    expect(noAf.status).toBe(400);
    expect(pageText(noAf.html)).toContain('This form is incomplete');
    const stale = await browse(stack.url, `/api/approvals/${a.id}`, { cookie: socLead, form: decisionBody({ token: a.token, af: await afFor(a.id, DEMO.approvers[0], Date.now() - 31 * 60_000) }, 'approve') });
    expect(stale.status).toBe(403);
    const othersForm = readApprovalForm((await browse(stack.url, a.path, { cookie: secManager })).html);
    const borrowed = await browse(stack.url, `/api/approvals/${a.id}`, { cookie: socLead, form: decisionBody(othersForm ?? { token: '', af: '' }, 'approve') });
    expect(borrowed.status).toBe(403);
    await nothingDecided();
  });

  it('asks a signed-out poster to sign in, even with a principal header the client wrote itself', async () => {
    const form = readApprovalForm((await browse(stack.url, a.path, { cookie: socLead })).html);
    const forgedPrincipal = Buffer.from(
      JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: DEMO.approvers[0] }] }),
    ).toString('base64');
    const attempts: Record<string, string>[] = [{}, { 'x-ms-client-principal': forgedPrincipal, 'x-ms-client-principal-id': DEMO.approvers[0] }];
    for (const headers of attempts) {
      const posted = await browse(stack.url, `/api/approvals/${a.id}`, { headers, form: decisionBody(form ?? { token: '', af: '' }, 'approve') });
      expect(posted.status).toBe(401);
      expect(pageText(posted.html)).toContain('Sign in to view');
    }
    await nothingDecided();
  });

  it('refuses the sponsor of the agent, on the page and on a form made for them', async () => {
    const dana = await signInAs(stack.url, DEMO.human);
    const page = await browse(stack.url, a.path, { cookie: dana });
    expect(page.status).toBe(403);
    expect(readApprovalForm(page.html)).toBeUndefined();
    const posted = await browse(stack.url, `/api/approvals/${a.id}`, { cookie: dana, form: decisionBody({ token: a.token, af: await afFor(a.id, DEMO.human) }, 'approve') });
    expect(posted.status).toBe(403);
    await nothingDecided();
  });

  it('decides nothing by GET, by other methods or by other media types', async () => {
    const af = await afFor(a.id, DEMO.approvers[0]);
    const asQuery = await browse(stack.url, `${a.path}&decision=approve&af=${encodeURIComponent(af)}`, { cookie: socLead });
    expect(asQuery.status).toBe(200);
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const res = await browse(stack.url, `/api/approvals/${a.id}`, { cookie: socLead, method, form: decisionBody({ token: a.token, af }, 'approve') });
      expect(res.status, method).toBe(405);
    }
    const json = await browse(stack.url, `/api/approvals/${a.id}`, { cookie: socLead, method: 'POST', headers: { 'content-type': 'application/json' }, form: JSON.stringify({ token: a.token, af, decision: 'approve' }) });
    expect(json.status).toBe(415);
    const huge = await browse(stack.url, `/api/approvals/${a.id}`, { cookie: socLead, form: `${decisionBody({ token: a.token, af }, 'approve')}&comment=${'x'.repeat(20_000)}` });
    expect(huge.status).toBe(413);
    const oddId = await browse(stack.url, `/api/approvals/${encodeURIComponent('..%2f..%2fcases')}?token=${encodeURIComponent(a.token)}`, { cookie: socLead });
    expect(oddId.status).toBe(400);
    await nothingDecided();
  });

  it('takes a decision once: a replayed form shows the outcome and decides nothing more', async () => {
    const form = readApprovalForm((await browse(stack.url, b.path, { cookie: socLead })).html);
    const body = decisionBody(form ?? { token: '', af: '' }, 'reject', 'first and only');
    const first = await browse(stack.url, `/api/approvals/${b.id}`, { cookie: socLead, form: body });
    expect(pageText(first.html)).toContain('Your rejection is recorded');
    const replays = await Promise.all([1, 2, 3].map(() => browse(stack.url, `/api/approvals/${b.id}`, { cookie: socLead, form: body })));
    expect(replays.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(replays.every((r) => pageText(r.html).includes('This request was rejected'))).toBe(true);
    const flipped = await browse(stack.url, `/api/approvals/${b.id}`, { cookie: socLead, form: decisionBody(form ?? { token: '', af: '' }, 'approve') });
    expect(pageText(flipped.html)).toContain('This request was rejected');
    expect((await approval(b.id)).decisions).toHaveLength(1);
    expect((await approval(b.id)).status).toBe('rejected');
    await nothingDecided();
  });
});
