import { ManagedIdentityCredential } from '@azure/identity';
import type { Config } from '../config';

/** The settings telemetry reads. */
export type TelemetrySettings = Pick<Config, 'APPLICATIONINSIGHTS_CONNECTION_STRING' | 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING' | 'AZURE_CLIENT_ID'>;

let started = false;

/**
 * Starts OpenTelemetry once per process, through Azure Monitor's distro, when `APPLICATIONINSIGHTS_CONNECTION_STRING`
 * is set; otherwise does nothing (spans and metrics stay no-ops, log lines go to the host as they are). Returns
 * whether telemetry is on.
 *
 * - Traces, metrics and logs go to Application Insights; with `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`
 *   (`Authorization=AAD`, as `infra/` deploys it: local authentication off) they are sent with the managed identity.
 * - Every trace is kept (`samplingRatio` 1, no per-second cap): a containment is rare and each one matters.
 * - The distro's `http` instrumentation is off: the app's own spans (`trace-outbound.ts`) cover every call to Graph,
 *   ARM, Log Analytics, tickets and Teams with redacted URLs; Azure SDK calls (storage, ingestion) keep theirs.
 * - `@azure/functions-opentelemetry-instrumentation` links the worker's spans to the host's invocation span and
 *   sends `context.log` lines as OpenTelemetry logs; host.json's `"telemetryMode": "OpenTelemetry"` is its other
 *   half (the host then stops sending the worker's logs itself, so each line arrives once).
 *
 * NOTE: the instrumentation calls `app.setup()`, which `@azure/functions` allows only before the first function is
 * registered; `register-telemetry.ts` is therefore the first import of every file in `functions/`.
 * https://learn.microsoft.com/azure/azure-functions/opentelemetry-howto
 */
export function startTelemetry(settings: TelemetrySettings): boolean {
  if (started || settings.APPLICATIONINSIGHTS_CONNECTION_STRING === undefined) {
    return started;
  }
  // Loaded only when telemetry is on: the distro and its SDKs take 1.5 to 2 s to load, which a process with telemetry
  // off (tests, `npm start`, a deployment without Application Insights) must not pay at every cold start.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { useAzureMonitor } = require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');
  const { AzureFunctionsInstrumentation } = require('@azure/functions-opentelemetry-instrumentation') as typeof import('@azure/functions-opentelemetry-instrumentation');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const aad = settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING;
  const clientId = /ClientId=([0-9a-f-]{36})/i.exec(aad ?? '')?.[1] ?? settings.AZURE_CLIENT_ID;
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: settings.APPLICATIONINSIGHTS_CONNECTION_STRING,
      ...(aad ? { credential: clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential() } : {}),
    },
    samplingRatio: 1,
    tracesPerSecond: 0,
    enableTraceBasedSamplingForLogs: false,
    enableLiveMetrics: false,
    instrumentationOptions: { http: { enabled: false } },
  });
  // Enabled on construction against the providers the distro just registered.
  new AzureFunctionsInstrumentation();
  started = true;
  return started;
}
