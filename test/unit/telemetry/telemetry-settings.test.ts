import { metrics, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config';
import { ConfigError } from '../../../shared/errors';
import { startTelemetry } from '../../../shared/telemetry/start-telemetry';

const STORAGE = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
const AUDIT = { AUDIT_INGESTION_ENDPOINT: 'https://audit-abcd.swedencentral-1.ingest.monitor.azure.com', AUDIT_DCR_IMMUTABLE_ID: 'dcr-00112233445566778899aabbccddeeff', AUDIT_STREAM_NAME: 'Custom-AgentResponderAudit' };

function refusedFields(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).fields.map((f) => f.field);
  }
  throw new Error('settings were accepted');
}

describe('telemetry settings', () => {
  it('accept the audit pipeline as infra/ deploys it', () => {
    expect(loadConfig({ ...STORAGE, ...AUDIT })).toMatchObject(AUDIT);
  });

  it('need all three audit settings or none, naming the missing ones', () => {
    expect(refusedFields({ ...STORAGE, AUDIT_INGESTION_ENDPOINT: AUDIT.AUDIT_INGESTION_ENDPOINT })).toEqual(['AUDIT_DCR_IMMUTABLE_ID', 'AUDIT_STREAM_NAME']);
  });

  it('refuse an ingestion endpoint over plain http off this machine (the bearer token would travel in clear)', () => {
    expect(refusedFields({ ...STORAGE, ...AUDIT, AUDIT_INGESTION_ENDPOINT: 'http://audit.example.com' })).toEqual(['AUDIT_INGESTION_ENDPOINT']);
    expect(loadConfig({ ...STORAGE, ...AUDIT, AUDIT_INGESTION_ENDPOINT: 'http://127.0.0.1:7072' }).AUDIT_INGESTION_ENDPOINT).toBe('http://127.0.0.1:7072');
  });

  it('refuse a rule id or stream that is not one, and an authentication string that is not Entra ID', () => {
    expect(refusedFields({ ...STORAGE, ...AUDIT, AUDIT_DCR_IMMUTABLE_ID: 'my-rule', AUDIT_STREAM_NAME: 'AgentResponderAudit_CL', APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ApiKey=abc' })).toEqual([
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      'AUDIT_DCR_IMMUTABLE_ID',
      'AUDIT_STREAM_NAME',
    ]);
    expect(loadConfig({ ...STORAGE, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=a9e00000-0000-4000-8000-000000000001;Authorization=AAD' }).APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBeDefined();
  });

  it('leave telemetry off, registering nothing, without a connection string', () => {
    const tracerProvider = trace.getTracerProvider();
    const meterProvider = metrics.getMeterProvider();
    expect(startTelemetry(loadConfig(STORAGE))).toBe(false);
    expect(trace.getTracerProvider()).toBe(tracerProvider);
    expect(metrics.getMeterProvider()).toBe(meterProvider);
  });
});
