import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/start-simulator';
import { ValidationError } from '../../shared/errors';
import { defaultRetryPolicy } from '../../shared/net/retry-policy';
import { createLogAnalytics, type LogAnalytics } from '../../shared/sentinel/log-analytics-client';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';

const FIXTURE = JSON.parse(readFileSync(resolve(__dirname, '../fixtures/sentinel/alert-trigger.entities-array.json'), 'utf8')) as {
  SystemAlertId: string;
  WorkspaceId: string;
  Status: string;
  Entities: unknown[];
};

/**
 * Alerts re-read at their source: the Log Analytics query API of the tenant simulator, reached through the app's
 * own wiring (`deps.logAnalytics`, `LOG_ANALYTICS_ENDPOINT`, the managed identity's token for api.loganalytics.io).
 */
describe('Log Analytics client against the simulator', () => {
  let app: InProcessApp;
  let fast: LogAnalytics;
  const laCalls = () => app.sim.calls.filter((c) => c.service === 'loganalytics');

  beforeAll(async () => {
    app = await startInProcessApp();
    fast = createLogAnalytics({
      credential: new DefaultAzureCredential(),
      endpoint: app.sim.url,
      http: { retry: { ...defaultRetryPolicy, attemptTimeoutMs: 400, budgetMs: 3_000 }, retryHooks: { sleep: () => Promise.resolve() } },
    });
  });
  afterAll(async () => {
    await app?.stop();
  });
  beforeEach(() => {
    app.sim.reset();
    app.sim.setKnobs({ logAnalyticsReader: true });
  });

  it('reads the alert-trigger fixture back from its workspace, with a Log Analytics token from the managed identity', async () => {
    const lookup = await app.deps.logAnalytics.getAlert(FIXTURE.WorkspaceId, FIXTURE.SystemAlertId);
    expect(lookup.found).toBe(true);
    if (lookup.found) {
      expect(lookup.alert).toMatchObject({ systemAlertId: FIXTURE.SystemAlertId, workspaceId: FIXTURE.WorkspaceId, status: FIXTURE.Status });
      expect(lookup.alert.entities).toEqual(FIXTURE.Entities);
    }
    const [call] = laCalls();
    expect(call).toMatchObject({ method: 'POST', path: `/v1/workspaces/${FIXTURE.WorkspaceId}/query`, status: 200 });
    const msi = app.sim.calls.filter((c) => c.service === 'msi').map((c) => new URLSearchParams(c.query).get('resource'));
    expect(msi.some((r) => r?.startsWith('https://api.loganalytics.io'))).toBe(true);
  });

  it("reads the demo incident's alert and its current status (the latest row)", async () => {
    app.sim.state.addSeed({ securityAlerts: [{ TenantId: DEMO.workspace.customerId, SystemAlertId: DEMO.alerts.incident, TimeGenerated: '2026-11-21T08:00:00Z', Status: 'Resolved', Entities: [] }] });
    const lookup = await app.deps.logAnalytics.getAlert(DEMO.workspace.customerId, DEMO.alerts.incident);
    expect(lookup).toMatchObject({ found: true, alert: { status: 'Resolved', entities: [] } });
  });

  it('answers not found only when the workspace holds no such alert', async () => {
    await expect(app.deps.logAnalytics.getAlert(DEMO.workspace.customerId, 'eeeeeeee-0000-4000-8000-000000000000')).resolves.toEqual({ found: false });
  });

  it('sends nothing for an alert id or workspace id that could inject into the query or the path', async () => {
    await expect(app.deps.logAnalytics.getAlert(DEMO.workspace.customerId, "x' or 1==1 //")).rejects.toBeInstanceOf(ValidationError);
    await expect(app.deps.logAnalytics.getAlert('../../subscriptions', DEMO.alerts.fixture)).rejects.toBeInstanceOf(ValidationError);
    expect(laCalls()).toEqual([]);
  });

  it('fails permanently, not "not found", without the reader role or for an unknown workspace', async () => {
    app.sim.setKnobs({ logAnalyticsReader: false });
    await expect(fast.getAlert(DEMO.workspace.customerId, DEMO.alerts.fixture)).rejects.toMatchObject({ transient: false, httpStatus: 403, upstreamCode: 'InsufficientAccessError' });
    app.sim.setKnobs({ logAnalyticsReader: true });
    await expect(fast.getAlert('00000000-0000-4000-8000-0000000000ff', DEMO.alerts.fixture)).rejects.toMatchObject({ transient: false, httpStatus: 404 });
  });

  it('retries a 500, a 429 and a dropped connection, and times out a query that never answers as transient', async () => {
    app.sim.addFault({ service: 'loganalytics', path: '/query$', status: 500, times: 1 });
    app.sim.addFault({ service: 'loganalytics', path: '/query$', status: 429, retryAfter: 0, times: 1 });
    app.sim.addFault({ service: 'loganalytics', path: '/query$', drop: true, times: 1 });
    await expect(fast.getAlert(DEMO.workspace.customerId, DEMO.alerts.fixture)).resolves.toMatchObject({ found: true });
    expect(laCalls().map((c) => c.status)).toEqual([500, 429, 0, 200]);
    app.sim.addFault({ service: 'loganalytics', path: '/query$', hang: true, times: 100 });
    await expect(fast.getAlert(DEMO.workspace.customerId, DEMO.alerts.fixture)).rejects.toMatchObject({ transient: true, upstreamCode: 'Timeout' });
  });
});
