import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { checkAdaptiveCard } from '../../dev/simulator/teams-routes';
import { decisionBody, pageText, parseApprovalLink, readApprovalForm } from '../helpers/approval-form';
import { approvalsOf, askRelease, browse, signInAs } from '../helpers/approval-http';
import { seedIncident } from '../helpers/seed-incident';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

const incident = JSON.parse(readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;

/** The `Action.OpenUrl` links of a captured card. */
function linksOf(card: Record<string, unknown>): { title: string; url: string }[] {
  return ((card['actions'] as { title: string; url: string }[] | undefined) ?? []).map((a) => ({ title: a.title, url: a.url }));
}

describe('approval cards in a Teams channel, through the local host, its queue and the simulator’s Workflows webhook', () => {
  const stack = useStack();
  let seq = 0;

  /** Contains one more agent (each test its own case) and asks, as a signed-in analyst, to release it. */
  async function containAndAskRelease(): Promise<{ caseId: string; approvalId: string; link: string }> {
    seq++;
    const agents = [DEMO.agents.invoice, DEMO.agents.expiring, DEMO.agents.orphan, DEMO.agents.expired];
    const agent = agents[seq - 1] ?? DEMO.agents.invoice;
    const body = seq === 1 ? incident : seedIncident(stack.sim, seq, [{ id: agent, name: `agent ${seq}` }]).trigger();
    const caseId = String((await stack.post('/api/alerts', body)).body['caseId']);
    await stack.waitForCase(caseId, settled);
    const asked = await askRelease(stack, caseId, { targetId: agent, reason: `Cleared by the vendor (${seq})` });
    expect(asked.status).toBe(202);
    const link = String(asked.body['approvalUrl']);
    return { caseId, approvalId: parseApprovalLink(link).id, link };
  }

  /** Cards the channel accepted for an approval (its id appears in the link or the case link of the card). */
  const cardsFor = (caseId: string) => stack.sim.teams.cards().filter((c) => JSON.stringify(c).includes(caseId));
  const postsFor = (caseId: string) => stack.sim.teams.posts.filter((p) => JSON.stringify(p.body).includes(caseId));

  beforeAll(() => {
    expect(stack.env['TEAMS_WEBHOOK_URL']).toBe(stack.sim.teamsWebhookUrl);
  });
  beforeEach(() => {
    stack.sim.teams.clear();
  });

  async function approve(link: string): Promise<string> {
    const cookie = await signInAs(stack.url, DEMO.approvers[0]);
    const { path } = parseApprovalLink(link);
    const form = readApprovalForm((await browse(stack.url, path, { cookie })).html);
    const decided = await browse(stack.url, form?.action ?? '', { cookie, form: decisionBody(form ?? { token: '', af: '' }, 'approve', 'Vendor confirmed') });
    expect(decided.status).toBe(200);
    return pageText(decided.html);
  }

  it('posts a card asking for the decision when a release is requested, and an outcome card once it is decided', async () => {
    const { caseId, link } = await containAndAskRelease();
    await expect.poll(() => cardsFor(caseId).length, { timeout: 20_000 }).toBe(1);
    const [request] = cardsFor(caseId);
    expect(checkAdaptiveCard(request)).toEqual([]);
    expect(JSON.stringify(request)).toContain('Approval needed');
    expect(linksOf(request ?? {})).toEqual([
      { title: 'Review and decide', url: link },
      { title: 'Open the case', url: `${stack.url}/api/console/cases/${caseId}` },
    ]);
    // The card shows what the page shows: no approver's address, no anti-forgery token.
    expect(JSON.stringify(request)).not.toMatch(/soc-lead@|sec-manager@|"af"/);

    expect(await approve(link)).toContain('Your approval is recorded');
    await expect.poll(() => cardsFor(caseId).length, { timeout: 20_000 }).toBe(2);
    const outcome = cardsFor(caseId)[1] ?? {};
    expect(JSON.stringify(outcome)).toContain('Approved: Release a contained identity');
    expect(JSON.stringify(outcome)).toContain(`Approved by`);
    expect(JSON.stringify(outcome)).toContain(DEMO.approverUpns[0]);
    expect(linksOf(outcome)).toEqual([{ title: 'Open the case', url: `${stack.url}/api/console/cases/${caseId}` }]);
    expect(stack.sim.teams.posts.every((p) => p.status === 202)).toBe(true);

    // The case page's timeline shows both posts (audited on the case).
    const viewer = await signInAs(stack.url, DEMO.approvers[1]);
    const page = pageText((await browse(stack.url, `/api/console/cases/${caseId}`, { cookie: viewer })).html);
    expect(page.match(/Card posted to Teams/g)?.length).toBe(2);
  });

  it('does not hold up the approval when Teams answers 500 and 429, and posts the card when Teams recovers', async () => {
    stack.sim.teams.behave({ failures: [{ status: 500 }, { status: 429, retryAfter: 1 }, { status: 503 }] });
    const { caseId, approvalId, link } = await containAndAskRelease();
    expect((await (await approvalsOf(stack)).get(approvalId, 'approval'))?.value.status).toBe('pending');
    await expect.poll(() => cardsFor(caseId).length, { timeout: 45_000 }).toBe(1);
    expect(postsFor(caseId).map((p) => p.status)).toEqual([202]);
    expect(stack.sim.teams.posts.map((p) => p.status)).toEqual([202]);
    // The failures were answered before the body was read; the decision goes through while Teams fails again.
    stack.sim.teams.behave({ failures: [{ status: 500 }] });
    expect(await approve(link)).toContain('The request is approved');
    await expect.poll(() => cardsFor(caseId).length, { timeout: 45_000 }).toBe(2);
  });

  it('does not hold up the approval when Teams does not answer in time, and retries the card', async () => {
    stack.sim.teams.behave({ hangMs: 14_000, hangTimes: 1 });
    const { caseId, approvalId } = await containAndAskRelease();
    // The request was answered and the approval stands while Teams still holds the first post.
    expect(cardsFor(caseId)).toEqual([]);
    expect((await (await approvalsOf(stack)).get(approvalId, 'approval'))?.value.status).toBe('pending');
    // After the 10 s time-out the card is posted again; the held post lands too when Teams wakes: a duplicate card,
    // as Teams would show it (a card is safe to repeat; a lost one is not).
    await expect.poll(() => cardsFor(caseId).length, { timeout: 60_000, interval: 500 }).toBe(2);
    expect(postsFor(caseId).map((p) => p.status)).toEqual([202, 202]);
  });

  it('does not retry a card Teams refuses for good, and records the refusal on the case', async () => {
    stack.sim.teams.behave({ failures: [{ status: 400 }] });
    const { caseId } = await containAndAskRelease();
    const viewer = await signInAs(stack.url, DEMO.approvers[1]);
    await expect
      .poll(async () => pageText((await browse(stack.url, `/api/console/cases/${caseId}`, { cookie: viewer })).html), { timeout: 20_000 })
      .toContain('Card not posted to Teams');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(stack.sim.teams.posts).toHaveLength(0); // the 400 was answered before capture, and nothing was sent again
  });
});
