import { metrics, type Counter, type Histogram, type MeterProvider } from '@opentelemetry/api';

/** The instrumentation scope of every span and metric this app records. */
export const TELEMETRY_SCOPE = 'agent-responders';

/** Metric names, as they appear in Application Insights' `customMetrics` and in any OpenTelemetry backend. */
export const METRICS = {
  timeToContain: 'agent_responders.time_to_contain',
  cases: 'agent_responders.cases',
  approvalsPending: 'agent_responders.approvals.pending',
  auditIngested: 'agent_responders.audit.ingested',
  auditDropped: 'agent_responders.audit.ingestion.dropped',
} as const;

interface Instruments {
  provider: MeterProvider;
  timeToContain: Histogram;
  cases: Counter;
  auditIngested: Counter;
  auditDropped: Counter;
}

let instruments: Instruments | undefined;

/**
 * The instruments on the current global meter provider. Created on first use, and again if the provider changed:
 * the metrics API has no proxy (unlike tracing), so instruments made before the SDK registered would stay no-ops.
 */
export function responderMetrics(): Instruments {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider !== provider) {
    const meter = provider.getMeter(TELEMETRY_SCOPE);
    instruments = {
      provider,
      timeToContain: meter.createHistogram(METRICS.timeToContain, {
        description: 'From a target reaching the intake to Graph acknowledging its access cut',
        unit: 's',
        advice: { explicitBucketBoundaries: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600] },
      }),
      cases: meter.createCounter(METRICS.cases, { description: 'Cases whose status settled, by that status' }),
      auditIngested: meter.createCounter(METRICS.auditIngested, { description: 'Audit rows accepted by the Logs Ingestion API' }),
      auditDropped: meter.createCounter(METRICS.auditDropped, { description: 'Audit rows given up on (they stay in the audit table)' }),
    };
  }
  return instruments;
}
