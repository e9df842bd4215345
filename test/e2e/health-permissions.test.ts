import { afterEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/start-stack';

/** The app reads its own token's roles: a deployment missing a grant says so at start-up and in /api/health. */
describe('Graph permissions reported by the app, end to end', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('names each enabled feature whose permission the grant left out, at start-up and in /api/health', async () => {
    // The settings enable approvals, mail and the lifecycle; the grant covered containment only.
    stack = await startStack({ features: ['containment'] });
    const res = await stack.get('/api/health');
    expect(res.status).toBe(200);
    expect(res.body['status']).toBe('degraded');
    const report = res.body['graphPermissions'] as { status: string; missing: { feature: string; permissions: string[] }[]; classicServicePrincipals: string };
    expect(report.status).toBe('missing');
    expect(report.missing.map((m) => m.feature).sort()).toEqual(['approvals', 'lifecycle', 'mail']);
    expect(report.missing.find((m) => m.feature === 'approvals')?.permissions).toEqual(['GroupMember.Read.All', 'AgentIdentity.ReadWrite.All']);
    expect(report.missing.find((m) => m.feature === 'mail')?.permissions).toEqual(['Mail.Send']);
    expect(report.classicServicePrincipals).toBe('none');
    const deadline = Date.now() + 10_000;
    while (!stack.host.output().includes('"msg":"graph permissions"') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(stack.host.output()).toMatch(/"msg":"graph permissions","status":"missing","missing":\[\{"feature":"lifecycle"/);
    // Names of permissions only: nothing of the token itself.
    expect(res.text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it('reports ok when the grant matches the features the settings turn on', async () => {
    stack = await startStack();
    const res = await stack.get('/api/health');
    expect(res.status).toBe(200);
    expect(res.body['graphPermissions']).toEqual({ status: 'ok', missing: [], classicServicePrincipals: 'none' });
  });
});
