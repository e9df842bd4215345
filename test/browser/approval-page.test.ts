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

  it('lets an allowed approver sign in, read the request, approve, and see the outcome', async () => {
    const { context, page } = await openBrowser();
    await page.goto(link);
    await shot(page, '01-sign-in');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(/\/\.auth\/login\/dev/);
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
    expect(await page.evaluate(() => document.scripts.length)).toBe(0);
    // Readable on a phone: nothing wider than the screen, both buttons big enough to tap.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    for (const id of ['#approve', '#reject']) {
      const box = await page.locator(id).boundingBox();
      expect(box?.height ?? 0).toBeGreaterThanOrEqual(44);
      expect((box?.x ?? -1) >= 0 && (box?.x ?? 0) + (box?.width ?? 0) <= PHONE.width).toBe(true);
    }
    await shot(page, '03-confirm');
    await unchanged();

    await page.locator('#comment').fill('Vendor confirmed; release it.');
    await page.locator('#approve').click();
    await expect.poll(() => page.locator('#outcome').textContent()).toBe('Approved');
    expect(await page.locator('#message').innerText()).toContain('Your approval is recorded');
    await shot(page, '04-recorded');

    await expect
      .poll(async () => ((await (await fetch(`${stack.sim.url}/_sim/objects/${DEMO.agents.invoice}`)).json()) as { accountEnabled: boolean }).accountEnabled, { timeout: 15_000 })
      .toBe(true);
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
});
