import { metrics, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { SIM_AUDIT_DCR } from '../../dev/simulator/log-ingestion-routes';
import { AuditIngestion } from '../../shared/store/audit-ingestion';
import { METRICS } from '../../shared/telemetry/responder-metrics';
import { APPROVALS_COUNT_MAX_AGE_MS } from '../../shared/approvals/approvals-pending';
import { TABLES } from '../../shared/store/storage';
import { consoleLogger } from '../../shared/logger';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';

/** Collects on demand, as the Azure Monitor exporter's reader does every minute. */
class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const reader = new OnDemandReader();
const meterProvider = new MeterProvider({ readers: [reader] });

/** The in-process app calls the intake's use-case directly, as an allow-listed caller would. */
const ANY_CALLER = { INTAKE_ALLOW_ANY_CALLER: 'true' };

/** Service names as the simulator's call log and the app's spans spell them. */
const SERVICE: Record<string, string> = { graph: 'Graph', arm: 'ARM', loganalytics: 'Log Analytics', servicenow: 'ServiceNow' };

async function metric(name: string): Promise<MetricData | undefined> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
}

describe('telemetry of one containment (in-memory OpenTelemetry SDK, the simulator\'s ingestion endpoint)', () => {
  let app: InProcessApp;
  beforeAll(async () => {
    // The SDK a test registers stands where useAzureMonitor() registers Azure Monitor's in production: the app's
    // code records through the OpenTelemetry API either way.
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
    app = await startInProcessApp({ env: ANY_CALLER });
  });
  afterAll(async () => {
    await app.stop();
    trace.disable();
    metrics.disable();
  });

  it('records one span per outbound call with its service and status, the time to contain and the case outcome, and ingests every audit row once', async () => {
    spans.reset();
    app.sim.calls.length = 0;
    const caseId = await app.containDemoAgent();
    const bundle = await app.deps.cases.load(caseId);
    const target = bundle?.targets.find((t) => t.objectId === DEMO.agents.invoice);
    expect(target?.status).toBe('contained');

    // One client span per HTTP call the simulator saw (managed-identity token requests are not outbound calls of
    // ours), with the same service, method, path and status.
    const seen = app.sim.calls.filter((c) => c.service !== 'msi').map((c) => `${SERVICE[c.service] ?? c.service} ${c.method} ${c.path} ${c.status}`).sort();
    const traced = spans
      .getFinishedSpans()
      .map((s) => `${String(s.attributes['peer.service'])} ${String(s.attributes['http.request.method'])} ${new URL(String(s.attributes['url.full'])).pathname} ${String(s.attributes['http.response.status_code'])}`)
      .sort();
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(traced).toEqual(seen);
    expect(new Set(spans.getFinishedSpans().map((s) => s.attributes['peer.service']))).toEqual(new Set(['Graph', 'ARM', 'ServiceNow']));
    const spanText = JSON.stringify(spans.getFinishedSpans().map((s) => s.attributes));
    for (const secret of [app.deps.config.SERVICENOW_PASSWORD ?? 'unset', 'Bearer', 'eyJ']) {
      expect(spanText).not.toContain(secret);
    }

    // Time to contain: one measurement, for the agent identity, equal to what the case records.
    const ttc = await metric(METRICS.timeToContain);
    expect(ttc?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const point = ttc?.dataPoints.find((p) => p.attributes['identity.kind'] === 'agentIdentity');
    const recorded = (Date.parse(target?.accessCutAt ?? '') - Date.parse(target?.receivedAt ?? '')) / 1000;
    expect(point?.value).toMatchObject({ count: 1, sum: recorded });

    // Cases by outcome: this case settled once, as done.
    const cases = await metric(METRICS.cases);
    expect(cases?.dataPoints.map((p) => [p.attributes['case.status'], p.value])).toEqual([['done', 1]]);

    // Every audit row of the case reached the audit stream exactly once, nothing else of it, and no secret.
    await app.deps.auditIngestion?.flush();
    const audit = await app.deps.audit.list(caseId);
    const ingested = app.sim.ingestion.rows().filter((r) => r['CaseId'] === caseId);
    expect(audit.length).toBeGreaterThanOrEqual(3);
    expect(ingested).toHaveLength(audit.length);
    for (const entry of audit) {
      const matches = ingested.filter((r) => r['TimeGenerated'] === entry.at && ((JSON.parse(String(r['Detail'])) as { auditAction?: string }).auditAction ?? r['Action']) === entry.action);
      expect(matches, `${entry.action} at ${entry.at ?? ''}`).toHaveLength(1);
    }
    expect(ingested.map((r) => r['Action'])).toEqual(expect.arrayContaining(['case.accepted', 'containment.disable']));
    const sent = JSON.stringify(app.sim.ingestion.batches);
    for (const secret of [app.deps.config.SERVICENOW_PASSWORD ?? 'unset', app.deps.config.APPROVAL_SIGNING_KEY ?? 'unset', app.sim.teams.sig, 'Bearer', 'eyJ']) {
      expect(sent).not.toContain(secret);
    }
    expect((await metric(METRICS.auditIngested))?.dataPoints[0]?.value).toBeGreaterThanOrEqual(audit.length);
  });

  it('publishes the approvals waiting for a decision, reading the approvals table at most once a minute', async () => {
    const gauge = await metric(METRICS.approvalsPending);
    expect(gauge?.dataPointType).toBe(DataPointType.GAUGE);
    expect(gauge?.dataPoints[0]?.value).toBe(0);
    const table = await app.deps.storage.table(TABLES.approvals);
    for (const [rowKey, status] of [['a1', 'pending'], ['a2', 'pending'], ['a3', 'approved']] as const) {
      await table.createEntity({ partitionKey: `telemetry-${rowKey}`, rowKey: 'approval', status });
    }
    expect((await metric(METRICS.approvalsPending))?.dataPoints[0]?.value).toBe(0);
    app.clock.now += APPROVALS_COUNT_MAX_AGE_MS;
    expect((await metric(METRICS.approvalsPending))?.dataPoints[0]?.value).toBe(2);
  });
});

describe('an ingestion endpoint that hangs', () => {
  let app: InProcessApp;
  beforeAll(async () => {
    app = await startInProcessApp({ env: ANY_CALLER });
  });
  afterAll(async () => {
    await app.stop();
  });

  it('does not hold up the containment', { timeout: 30_000 }, async () => {
    // Every upload hangs for two minutes: a containment that waited on ingestion would blow this test's 30 s.
    app.sim.ingestion.behave({ hangMs: 120_000, hangTimes: 5 });
    const caseId = await app.containDemoAgent();
    expect((await app.deps.cases.load(caseId))?.record.status).toBe('done');
    expect(app.sim.state.objects.get(DEMO.agents.invoice)?.accountEnabled).toBe(false);
    expect(app.sim.ingestion.rows()).toEqual([]);
  });
});

describe('an ingestion endpoint that fails', () => {
  let app: InProcessApp;
  beforeAll(async () => {
    metrics.setGlobalMeterProvider(meterProvider);
    app = await startInProcessApp({ env: ANY_CALLER });
  });
  afterAll(async () => {
    await app.stop();
    metrics.disable();
  });

  it('never fails the containment: 503s are retried with backoff and every row arrives once', async () => {
    app.sim.ingestion.behave({ failures: [{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }] });
    const caseId = await app.containDemoAgent();
    expect((await app.deps.cases.load(caseId))?.record.status).toBe('done');
    const audit = await app.deps.audit.list(caseId);
    // The client retries twice per upload, our queue retries the upload after 1 s, 2 s, …
    await expect.poll(() => app.sim.ingestion.rows().filter((r) => r['CaseId'] === caseId).length, { timeout: 20_000, interval: 200 }).toBe(audit.length);
    expect(app.sim.ingestion.batches.filter((b) => b.status === 503).length).toBeGreaterThanOrEqual(1);
  });

  it('gives up on rows after its attempts, counts them as dropped, and keeps them in the audit table', async () => {
    const before = (await metric(METRICS.auditDropped))?.dataPoints.find((p) => p.attributes['reason'] === 'failed')?.value ?? 0;
    const sink = new AuditIngestion({ endpoint: app.sim.url, ruleId: SIM_AUDIT_DCR.immutableId, streamName: SIM_AUDIT_DCR.stream, credential: app.deps.credential, log: consoleLogger, maxAttempts: 2, backoffMs: () => 10, batchDelayMs: 0 });
    app.sim.ingestion.behave({ failures: Array.from({ length: 6 }, () => ({ status: 503 })) });
    const at = new Date().toISOString();
    sink.send({ action: 'test.row', scope: 'system', actor: 'test', result: 'info', at });
    await expect.poll(async () => (await metric(METRICS.auditDropped))?.dataPoints.find((p) => p.attributes['reason'] === 'failed')?.value ?? 0, { timeout: 10_000, interval: 100 }).toBe((before as number) + 1);
    expect(sink.pending).toBe(0);
    expect(app.sim.ingestion.rows().filter((r) => r['TimeGenerated'] === at)).toEqual([]);
  });

  it('drops the oldest rows past its bound and counts them, never blocking the writer', () => {
    const sink = new AuditIngestion({ endpoint: app.sim.url, ruleId: SIM_AUDIT_DCR.immutableId, streamName: SIM_AUDIT_DCR.stream, credential: app.deps.credential, log: consoleLogger, maxQueued: 3, batchDelayMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      sink.send({ action: 'test.row', scope: 'system', actor: 'test', result: 'info', at: new Date().toISOString() });
    }
    expect(sink.pending).toBe(3);
  });
});
