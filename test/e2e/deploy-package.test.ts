import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_DIR } from '../../dev/bundle/bundle-app';
import { freePort } from '../../dev/free-port';
import { spawnLocalHost } from '../../dev/host/spawn-local-host';
import { DEMO } from '../../dev/simulator/demo-ids';
import { settled, startStack, type Stack } from '../helpers/start-stack';

const ROOT = resolve(__dirname, '..', '..');
const incident = JSON.parse(readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;

/** The deployment package as azd uploads it, copied out of the repository: nothing can resolve from its node_modules. */
function copyPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-package-'));
  cpSync(join(ROOT, DEPLOY_DIR), dir, { recursive: true });
  return dir;
}

describe('the deployment package on its own (copied out of the repository), served by the local host', () => {
  const dir = copyPackage();
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ appDir: dir });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('contains an incident end to end: the agent disabled and confirmed compromised, one ticket, one comment', async () => {
    const res = await stack.post('/api/alerts', incident);
    expect(res.status).toBe(202);
    const c = await stack.waitForCase(String(res.body['caseId']), settled);
    expect(c.status).toBe('done');
    expect(c.targets.find((t) => t.objectId === DEMO.agents.invoice)?.status).toBe('contained');
    const agent = (await (await fetch(`${stack.sim.url}/_sim/objects/${DEMO.agents.invoice}`)).json()) as { accountEnabled: boolean; riskState: string };
    expect(agent).toMatchObject({ accountEnabled: false, riskState: 'confirmedCompromised' });
    expect(stack.sim.calls.filter((call) => call.service === 'graph' && call.method === 'PATCH')).toHaveLength(1);
    const tickets = (await (await fetch(`${stack.sim.url}/_sim/tickets`)).json()) as { servicenow: unknown[] };
    expect(tickets.servicenow).toHaveLength(1);
    const comments = (await (await fetch(`${stack.sim.url}/_sim/comments`)).json()) as unknown[] | { value: unknown[] };
    expect(Array.isArray(comments) ? comments : comments.value).toHaveLength(1);
  });

  it('reports the version from its own package.json', async () => {
    const health = await stack.get('/api/health');
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(health.body['version']).toBe(version);
  });
});

describe('a deployment package missing a shipped dependency', () => {
  it('fails to start naming the module, instead of borrowing it from the repository', async () => {
    const dir = copyPackage();
    try {
      rmSync(join(dir, 'node_modules', '@azure', 'functions'), { recursive: true });
      const start = spawnLocalHost({ appDir: dir, port: await freePort(), env: { AzureWebJobsStorage: 'UseDevelopmentStorage=true' }, startTimeoutMs: 30_000 });
      await expect(start).rejects.toThrow(/Cannot find module '@azure\/functions'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
