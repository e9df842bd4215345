import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import type { ApprovalEntity } from '../../shared/approvals/approval-entity';
import type { RecordTable } from '../../shared/store/record-table';
import { parseApprovalLink } from '../helpers/approval-form';
import { approvalsOf, askRelease } from '../helpers/approval-http';
import { settled, startStack, type Stack } from '../helpers/start-stack';

const ROOT = resolve(__dirname, '..', '..');
const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const incident = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;
/** An iPhone-sized viewport: approvers decide from their phone. */
const PHONE = { width: 390, height: 844 };
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('the approval page in a real browser (Debian chromium, phone-sized)', () => {
  let stack: Stack;
  let approvals: RecordTable<ApprovalEntity>;
  let link: string;
  let approvalId: string;
  const profiles: string[] = [];
  const contexts: BrowserContext[] = [];

  /** A fresh browser profile each time: no cookie or cache carries over between visitors. */
  async function openBrowser(opts: { javaScriptEnabled?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
    const profile = mkdtempSync(join(tmpdir(), 'approval-browser-'));
    profiles.push(profile);
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: PHONE,
      javaScriptEnabled: opts.javaScriptEnabled ?? true,
    });
    contexts.push(context);
    return { context, page: context.pages()[0] ?? (await context.newPage()) };
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async function unchanged(): Promise<void> {
    expect((await approvals.get(approvalId, 'approval'))?.value).toMatchObject({ status: 'pending', decisions: [] });
    const agent = (await (await fetch(`${stack.sim.url}/_sim/objects/${DEMO.agents.invoice}`)).json()) as { accountEnabled: boolean };
    expect(agent.accountEnabled).toBe(false);
  }

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startStack();
    approvals = await approvalsOf(stack);
    const caseId = String((await stack.post('/api/alerts', incident)).body['caseId']);
    await stack.waitForCase(caseId, settled);
    const asked = await askRelease(stack, caseId, { targetId: DEMO.agents.invoice, reason: 'Secret rotated; vendor confirmed the sign-ins' });
    link = String(asked.body['approvalUrl']);
    approvalId = parseApprovalLink(link).id;
  });
  afterAll(async () => {
    for (const context of contexts) {
      await context.close().catch(() => undefined);
    }
    for (const profile of profiles) {
      rmSync(profile, { recursive: true, force: true });
    }
    await stack?.stop();
  });

  it('decides nothing when a link scanner opens it, with JavaScript on or off, following every link and redirect', async () => {
    for (const javaScriptEnabled of [true, false]) {
      const { context, page } = await openBrowser({ javaScriptEnabled });
      const res = await page.goto(link);
      expect(res?.status()).toBe(401);
      await expect.poll(() => page.locator('#approval-title').textContent()).toBe('Sign in to view');
      await shot(page, `scanner-js-${javaScriptEnabled ? 'on' : 'off'}-1-link`);
      for (const href of await page.locator('a[href]').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))) {
        await page.goto(href);
        await shot(page, `scanner-js-${javaScriptEnabled ? 'on' : 'off'}-2-followed`);
      }
      await context.close();
      await unchanged();
    }
  });

  it('shows a visitor who is not signed in nothing but "sign in to view", and keeps the link token out of the sign-in address', async () => {
    const { context, page } = await openBrowser();
    const res = await page.goto(link);
    expect(res?.status()).toBe(401);
    const text = await page.locator('main').innerText();
    expect(text).toContain('Sign in to view');
    for (const secret of ['Secret rotated', DEMO.approverUpns[2], 'Contoso Invoice Agent', 'Decide before']) {
      expect(text).not.toContain(secret);
    }
    const signIn = (await page.getByRole('link', { name: 'Sign in' }).getAttribute('href')) ?? '';
    expect(signIn).toBe(`/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(`/api/approvals/${approvalId}`)}`);
    expect(signIn).not.toContain(parseApprovalLink(link).token);
    await shot(page, '00-signed-out');
    await context.close();
  });

  it('lets an allowed approver sign in and decide from the first phone screen: incident, containment, reason required to reject, sign-out', async () => {
    const { context, page } = await openBrowser();
    await page.goto(link);
    await shot(page, '01-sign-in');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(/\/\.auth\/login\/dev/);
    expect(page.url()).not.toContain(parseApprovalLink(link).token);
    await shot(page, '02-dev-login-picker');
    await page.locator(`button[data-user-id="${DEMO.approvers[0]}"]`).click();

    await page.waitForURL((url) => url.pathname === `/api/approvals/${approvalId}`);
    await expect.poll(() => page.locator('#approval-title').textContent()).toBe('Release a contained identity');
    const text = await page.locator('main').innerText();
    expect(text).toContain('Re-enable agent identity "Contoso Invoice Agent"');
    expect(text).toContain('Secret rotated; vendor confirmed the sign-ins');
    expect(text).toContain('Decide before');
    expect(text).toContain('Sam SOC Lead (soc-lead@contoso.example)');
    expect(text).toContain(`Signed in as ${DEMO.approverUpns[0]}`);
    // The incident (title, severity, link) and when and why the identity was contained.
    const incidentFact = page.locator('#incident');
    expect(await incidentFact.innerText()).toContain('#4242 New credential added to an agent identity, then used from an unfamiliar location');
    expect(await incidentFact.innerText()).toContain('High');
    expect(await incidentFact.locator('a').getAttribute('href')).toMatch(/^https:\/\/portal\.azure\.com\/#asset\/Microsoft_Azure_Security_Insights\/Incident\//);
    expect(await page.locator('#contained').innerText()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC: named by the Microsoft Sentinel incident above$/);
    expect(await page.locator('#sign-out').getAttribute('href')).toMatch(/^\/\.auth\/logout/);
    expect(await page.evaluate(() => document.scripts.length)).toBe(0);
    // Readable on a phone: nothing wider than the screen, both buttons big enough to tap and on the first screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    for (const id of ['#approve', '#reject', '#comment']) {
      const box = await page.locator(id).boundingBox();
      expect(box, id).not.toBeNull();
      if (id !== '#comment') {
        expect(box?.height ?? 0).toBeGreaterThanOrEqual(44);
      }
      expect((box?.x ?? -1) >= 0 && (box?.x ?? 0) + (box?.width ?? 0) <= PHONE.width, id).toBe(true);
      expect((box?.y ?? -1) >= 0 && (box?.y ?? PHONE.height) + (box?.height ?? 0) <= PHONE.height, `${id} on the first screen`).toBe(true);
    }
    await page.screenshot({ path: join(SCREENSHOTS, '03-confirm-first-screen.png') });
    await shot(page, '03-confirm');
    await unchanged();

    // Reject without a reason: the browser asks for one and nothing is posted.
    await page.locator('#reject').click();
    expect(await page.locator('#comment').evaluate((el) => (el as HTMLTextAreaElement).validity.valueMissing)).toBe(true);
    expect(new URL(page.url()).pathname).toBe(`/api/approvals/${approvalId}`);
    await shot(page, '03b-reject-needs-reason');
    await unchanged();

    await page.locator('#comment').fill('Vendor confirmed; release it.');
    await page.locator('#approve').click();
    await expect.poll(() => page.locator('#outcome').textContent()).toBe('Approved');
    expect(await page.locator('#message').innerText()).toContain('Your approval is recorded');
    await shot(page, '04-recorded');

    await expect
      .poll(async () => ((await (await fetch(`${stack.sim.url}/_sim/objects/${DEMO.agents.invoice}`)).json()) as { accountEnabled: boolean }).accountEnabled, { timeout: 15_000 })
      .toBe(true);

    // Signing out ends the session: the same page asks to sign in again and shows nothing of the request.
    await page.locator('#sign-out').click();
    await page.goto(link);
    expect(await page.locator('#approval-title').textContent()).toBe('Sign in to view');
    expect(await page.locator('main').innerText()).not.toContain('Vendor confirmed');
    await shot(page, '04b-signed-out-again');
    await context.close();
  });

  it('shows the decision already taken on a second visit, to the approver and to another approver', async () => {
    for (const userId of [DEMO.approvers[0], DEMO.approvers[1]]) {
      const { context, page } = await openBrowser();
      await page.goto(`${stack.url}/.auth/login/dev?post_login_redirect_uri=${encodeURIComponent(parseApprovalLink(link).path)}`);
      await page.locator(`button[data-user-id="${userId}"]`).click();
      await page.waitForURL((url) => url.pathname === `/api/approvals/${approvalId}`);
      await expect.poll(() => page.locator('#outcome').textContent()).toBe('Approved');
      expect(await page.locator('#approve').count()).toBe(0);
      expect(await page.locator('#decisions').innerText()).toContain(`${DEMO.approverUpns[0]} approved at`);
      await shot(page, userId === DEMO.approvers[0] ? '05-second-visit' : '06-other-approver-visit');
      await context.close();
    }
    const stored = (await approvals.get(approvalId, 'approval'))?.value;
    expect(stored?.status).toBe('approved');
    expect(stored?.decisions).toHaveLength(1);
  });

  it("never prints a link token, or a request address with token=, in the host's output", () => {
    const out = stack.host.output();
    expect(out).toContain("Executed 'Functions.approvals-get'");
    expect(out).not.toContain('token=');
    expect(out).not.toContain(parseApprovalLink(link).token);
  });
});
