import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDevEasyAuth } from '../../dev/host/dev-easy-auth';
import { DEMO } from '../../dev/simulator/demo-ids';
import type { FunctionInfo } from '../../dev/host/hosted-function';
import { pageText, parseApprovalLink } from '../helpers/approval-form';
import { browse } from '../helpers/approval-http';
import { mintIdToken } from '../helpers/approval-sign-in';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

const ROOT = resolve(__dirname, '..', '..');
const incident = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, suffix) : path.endsWith(suffix) ? [path] : [];
  });
}

describe('the development sign-in can never be part of the deployed app', () => {
  it('is neither read nor imported by the app, and dev/ is left out of the deployment package', () => {
    const app = [...filesUnder(join(ROOT, 'functions'), '.ts'), ...filesUnder(join(ROOT, 'shared'), '.ts'), ...filesUnder(join(ROOT, 'dist/functions'), '.js'), ...filesUnder(join(ROOT, 'dist/shared'), '.js')];
    expect(app.length).toBeGreaterThan(50);
    const offenders = app.filter((file) => /LOCAL_DEV_|\/\.auth\/login\/dev|from '\.\.\/(\.\.\/)?dev\/|require\("\.\.\/(\.\.\/)?dev\//.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
    const ignored = readFileSync(join(ROOT, '.funcignore'), 'utf8').split(/\r?\n/);
    expect(ignored).toEqual(expect.arrayContaining(['dev', 'dist/dev', 'test']));
  });

  it('refuses to start on App Service even if someone enables it there', () => {
    expect(() => createDevEasyAuth({ LOCAL_DEV_EASY_AUTH: 'true', WEBSITE_INSTANCE_ID: 'abc123', LOCAL_DEV_USERS: '[]' })).toThrow(/local development only/);
    expect(() => createDevEasyAuth({ LOCAL_DEV_EASY_AUTH: 'true', WEBSITE_SITE_NAME: 'agent-responders', LOCAL_DEV_USERS: '[]' })).toThrow(/local development only/);
  });

  describe('the app served without the emulation, as Azure serves it behind App Service Authentication', () => {
    const stack = useStack({ env: { LOCAL_DEV_EASY_AUTH: 'false', WEBSITE_AUTH_ENABLED: 'True' } });

    it('has no /.auth/login/dev route, registers no /.auth route, and sends approvers to the platform sign-in without the link token', async () => {
      expect((await browse(stack.url, '/.auth/login/dev')).status).toBe(404);
      expect((await browse(stack.url, '/.auth/login/dev', { form: `userId=${DEMO.approvers[0]}` })).status).toBe(404);
      const functions = (await (await fetch(`${stack.url}/admin/functions`)).json()) as FunctionInfo[];
      expect(functions.filter((f) => f.route !== undefined).length).toBeGreaterThan(3);
      expect(functions.filter((f) => f.route?.replace(/^\/+/, '').startsWith('.auth') === true)).toEqual([]);

      const caseId = String((await stack.post('/api/alerts', incident)).body['caseId']);
      await stack.waitForCase(caseId, settled);
      // Easy Auth would pass the analyst's ID token; here the test passes one the tenant signed.
      const idToken = await mintIdToken(stack.sim.url, DEMO.approvers[2]);
      const asked = await stack.post(`/api/cases/${caseId}/release`, { targetId: DEMO.agents.invoice, reason: 'boundary check' }, { 'x-ms-token-aad-id-token': idToken });
      expect(asked.status).toBe(202);
      const { id, token, path } = parseApprovalLink(String(asked.body['approvalUrl']));
      const page = await browse(stack.url, path);
      expect(page.status).toBe(401);
      expect(pageText(page.html)).toContain('Sign in to view');
      expect(page.html).toContain(`href="/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fapprovals%2F${id}"`);
      expect(page.html).not.toContain(token);
      // The token waits in a cookie scoped to this approval, for the page after sign-in.
      expect(page.headers.get('set-cookie')).toMatch(new RegExp(`^approval_link=[^;]+; Path=/api/approvals/${id}; .*HttpOnly`, 'i'));
    });
  });
});
