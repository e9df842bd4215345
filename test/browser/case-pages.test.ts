import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { approvalsOf } from '../helpers/approval-http';
import { browsers, SCREENSHOTS } from '../helpers/browser';
import { seedIncident } from '../helpers/seed-incident';
import { settled, startStack, type Stack } from '../helpers/start-stack';

const ROOT = resolve(__dirname, '..', '..');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const incident = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1366, height: 900 } } as const;
const VIEWER = { id: 'c0c0a000-0000-4000-8000-000000000002', upn: 'analyst@contoso.example', name: 'Ana Analyst' };
const HOSTILE_TITLE = '<script>alert(1)</script><img src=x onerror=alert(2)> Token theft';

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * Runs axe-core in the page (injected through the DevTools protocol, so the page's own CSP, which allows no script,
 * stays as it is) against WCAG 2.1 A/AA and axe's best practices: labels, contrast, landmarks, headings and the rest.
 */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] });
    return result.violations;
  });
  return violations.map((v) => `${v.id} (${v.impact ?? 'n/a'}): ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** The ids (or tags) keyboard focus visits, pressing Tab from the top of the page. */
async function tabStops(page: Page, presses = 60): Promise<string[]> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const stops: string[] = [];
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab');
    stops.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName.toLowerCase() || ''));
  }
  return stops;
}

describe('the case pages in a real browser (Debian chromium), at phone and desktop sizes', () => {
  let stack: Stack;
  let demoCase: string;
  let hostileCase: string;
  const browser = browsers();

  async function shot(page: Page, size: string, name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `case-pages-${size}-${name}.png`), fullPage: true });
  }

  async function checkPage(page: Page, size: keyof typeof SIZES): Promise<void> {
    expect(await axeViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.scripts.length)).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(SIZES[size].width);
  }

  beforeAll(async () => {
    stack = await startStack({
      env: {
        CASE_VIEWERS: VIEWER.id,
        LOCAL_DEV_USERS: JSON.stringify([VIEWER, { id: DEMO.approvers[0], upn: DEMO.approverUpns[0], name: 'Sam SOC Lead' }]),
      },
    });
    // The viewer signs in through the simulator, which issues ID tokens only to users in its tenant.
    stack.sim.state.addSeed({ users: [{ id: VIEWER.id, '@odata.type': '#microsoft.graph.user', displayName: VIEWER.name, userPrincipalName: VIEWER.upn, accountEnabled: true }] });
    demoCase = String((await stack.post('/api/alerts', incident)).body['caseId']);
    hostileCase = String((await stack.post('/api/alerts', seedIncident(stack.sim, 1, [{ id: DEMO.classicSp, name: 'Payroll sync' }], { title: HOSTILE_TITLE }).trigger())).body['caseId']);
    await stack.waitForCase(demoCase, settled);
    await stack.waitForCase(hostileCase, settled);
  });
  afterAll(async () => {
    await browser.closeAll();
    await stack?.stop();
  });

  for (const size of ['phone', 'desktop'] as const) {
    it(`signs a viewer in, lists the cases, shows a case and requests a release with the keyboard (${size})`, async () => {
      const page = await browser.open(SIZES[size]);
      const res = await page.goto(`${stack.url}/api/console/cases`);
      expect(res?.status()).toBe(401);
      await expect.poll(() => page.locator('#page-title').textContent()).toBe('Sign in to view cases');
      expect(await page.locator('main').innerText()).not.toContain('Contoso Invoice Agent');
      await checkPage(page, size);
      await shot(page, size, '01-sign-in');

      await page.getByRole('link', { name: 'Sign in' }).click();
      await page.waitForURL(/\/\.auth\/login\/dev/);
      await page.locator(`button[data-user-id="${VIEWER.id}"]`).click();
      await page.waitForURL((url) => url.pathname === '/api/console/cases');
      await expect.poll(() => page.locator('#page-title').textContent()).toBe('Cases');
      const list = await page.locator('main').innerText();
      expect(list).toContain('Contoso Invoice Agent');
      expect(list).toContain(HOSTILE_TITLE);
      expect(await page.locator('header').innerText()).toContain(`Signed in as ${VIEWER.upn}`);
      await checkPage(page, size);
      const listStops = await tabStops(page, 12);
      expect(listStops).toEqual(expect.arrayContaining(['status', 'since', 'q', 'apply']));
      await shot(page, size, '02-case-list');

      await page.selectOption('#status', 'held');
      await page.locator('#apply').click();
      await page.waitForURL(/status=held/);
      await expect.poll(() => page.locator('#summary').textContent()).toBe('No case matches these filters.');
      await shot(page, size, '03-case-list-filtered');

      await page.goto(`${stack.url}/api/console/cases/${hostileCase}`);
      await expect.poll(() => page.locator('#page-title').textContent()).toBe(HOSTILE_TITLE);
      expect(await page.evaluate(() => document.images.length)).toBe(0);
      await checkPage(page, size);
      await shot(page, size, '04-hostile-case');

      await page.goto(`${stack.url}/api/console/cases/${demoCase}`);
      await expect.poll(() => page.locator('#case-status').textContent()).toBe('Done');
      expect(await page.locator('#targets ~ section').first().innerText()).toMatch(/Time to contain\s+\d/);
      await checkPage(page, size);
      await shot(page, size, '05-case');

      // Everything in the release form is reachable and usable with the keyboard alone.
      const stops = await tabStops(page);
      expect(stops).toEqual(expect.arrayContaining(['reason-0', 'release-0-submit']));
      if (size === 'desktop') {
        await page.locator('#reason-0').focus();
        await page.keyboard.type('Secret rotated; the sign-ins were the vendor');
        await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement?.id)).toBe('release-0-submit');
        await page.keyboard.press('Enter');
        await page.waitForURL(/notice=release-requested/);
        await expect.poll(() => page.locator('#notice').textContent()).toContain('Release requested');
        await checkPage(page, size);
        await shot(page, size, '06-release-requested');
        const approvals = (await (await approvalsOf(stack)).query(`caseId eq '${demoCase}'`)).map((r) => r.value);
        expect(approvals).toMatchObject([{ kind: 'release', status: 'pending', requestedBy: VIEWER.id }]);
      } else {
        // A release without a reason is not sent: the browser asks for it (required), and the server would refuse it too.
        await page.locator('#release-0-submit').click();
        expect(page.url()).toBe(`${stack.url}/api/console/cases/${demoCase}`);
        expect(await page.locator('#reason-0').evaluate((el) => (el as HTMLTextAreaElement).validity.valueMissing)).toBe(true);
        const box = await page.locator('#release-0-submit').boundingBox();
        expect(box?.height ?? 0).toBeGreaterThanOrEqual(44);
      }
    });
  }
});
