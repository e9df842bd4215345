import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Where browser tests save their screenshots (git-ignored). */
export const SCREENSHOTS = join(resolve(__dirname, '..', '..'), 'test-artifacts', 'screenshots');

/** Debian's chromium, headless, with nothing that reaches the network on its own. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Browsers for one test file: each `open` is a fresh profile (no cookie or cache carries over between visitors);
 * `closeAll` closes them and removes their profiles.
 */
export function browsers(): { open(viewport: { width: number; height: number }, opts?: { javaScriptEnabled?: boolean }): Promise<Page>; closeAll(): Promise<void> } {
  const profiles: string[] = [];
  const contexts: BrowserContext[] = [];
  return {
    async open(viewport, opts = {}) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const profile = mkdtempSync(join(tmpdir(), 'browser-test-'));
      profiles.push(profile);
      const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true, viewport, javaScriptEnabled: opts.javaScriptEnabled ?? true });
      contexts.push(context);
      return context.pages()[0] ?? (await context.newPage());
    },
    async closeAll() {
      for (const context of contexts) {
        await context.close().catch(() => undefined);
      }
      for (const profile of profiles) {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
