import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { simulatorAppEnv, LOCAL_AUTH } from '../../dev/app-env';
import { startSimulator, type Simulator } from '../../dev/simulator/start-simulator';
import { mintAccessToken } from '../helpers/approval-sign-in';
import { claimStorageAccount } from '../helpers/storage-account';
// The handlers read their settings when called (not on import), so the environment set below is the one they see.
import { alertsPostHandler as alertsPost } from '../../functions/alerts-post';
import { healthHandler as health } from '../../functions/health';

/**
 * The functions' handlers are exported, so a test can call one the way the Functions host does: a request and an
 * invocation context of its own, the app's settings in the environment, no host in between.
 */
describe('the exported function handlers, called directly', () => {
  let sim: Simulator;
  const saved = { ...process.env };

  beforeAll(async () => {
    sim = await startSimulator();
    Object.assign(process.env, simulatorAppEnv(sim, claimStorageAccount(), 'https://responders.example'), {
      IDENTITY_ENDPOINT: sim.identityEndpoint,
      IDENTITY_HEADER: sim.identityHeader,
    });
  });
  afterAll(async () => {
    process.env = saved;
    await sim?.stop();
  });

  const context = (functionName: string) => new InvocationContext({ functionName, invocationId: `test-${functionName}` });
  const post = (body: string, headers: Record<string, string> = {}) =>
    new HttpRequest({ method: 'POST', url: 'https://responders.example/api/alerts', headers: { 'content-type': 'application/json', ...headers }, body: { string: body } });
  const json = (res: unknown) => (res as HttpResponseInit).jsonBody as Record<string, unknown>;

  it('health answers 200 with the mode and reachable storage', async () => {
    const res = await health();
    expect(res.status).toBe(200);
    expect(json(res)).toMatchObject({ storage: 'reachable' });
  });

  it('the intake refuses a caller without the playbook token (403) and a body with a bad field (400 naming it), and accepts the demo incident from the playbook', async () => {
    const incident = readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8');
    expect((await alertsPost(post(incident), context('alerts-post'))).status).toBe(403);
    const token = await mintAccessToken(sim.url, LOCAL_AUTH.playbook.objectId, { appId: LOCAL_AUTH.playbook.appId });
    const auth = { authorization: `Bearer ${token}` };
    const bad = await alertsPost(post(JSON.stringify({ targets: 'everyone' }), auth), context('alerts-post'));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(json(bad))).toContain('targets');
    const ok = await alertsPost(post(incident, auth), context('alerts-post'));
    expect(ok.status).toBe(202);
    expect(json(ok)['caseId']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
