import { gzipSync } from 'node:zlib';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_INGESTION_BYTES, SIM_AUDIT_DCR } from '../../../dev/simulator/log-ingestion-routes';
import type { Simulator } from '../../../dev/simulator/start-simulator';
import { useSimulator } from '../../helpers/use-simulator';

const row = { TimeGenerated: '2026-11-22T10:00:00Z', CaseId: 'c', Action: 'case.accepted', Scope: 'intake', Actor: 'a', TargetId: '', Result: 'succeeded', RequestId: '', Detail: '{}' };

describe('simulator Logs Ingestion API', () => {
  const fixture = useSimulator();
  let sim: Simulator;
  const tokens: Record<string, string> = {};

  async function token(resource: string): Promise<string> {
    const res = await fetch(`${sim.identityEndpoint}?resource=${encodeURIComponent(resource)}&api-version=2019-08-01`, { headers: { 'X-IDENTITY-HEADER': sim.identityHeader } });
    return ((await res.json()) as { access_token: string }).access_token;
  }

  function post(body: string, opts: { token?: string; gzip?: boolean; dcr?: string; stream?: string; apiVersion?: string } = {}): Promise<Response> {
    const url = `${sim.url}/dataCollectionRules/${opts.dcr ?? SIM_AUDIT_DCR.immutableId}/streams/${opts.stream ?? SIM_AUDIT_DCR.stream}?api-version=${opts.apiVersion ?? '2023-01-01'}`;
    const payload = opts.gzip ? new Uint8Array(gzipSync(body)) : body;
    return fetch(url, { method: 'POST', body: payload, headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.token ?? tokens['monitor'] ?? ''}`, ...(opts.gzip ? { 'content-encoding': 'gzip' } : {}) } });
  }

  beforeAll(async () => {
    sim = fixture.sim;
    tokens['monitor'] = await token('https://monitor.azure.com/.default');
    tokens['graph'] = await token('https://graph.microsoft.com/.default');
  });
  beforeEach(() => sim.ingestion.clear());

  it('takes a gzip-encoded array of rows with the stream\'s columns and lists them', async () => {
    expect((await post(JSON.stringify([row, row]), { gzip: true })).status).toBe(204);
    const listed = (await (await fetch(`${sim.url}/_sim/ingested`)).json()) as { rows: unknown[]; batches: { gzip: boolean }[] };
    expect(listed.rows).toEqual([row, row]);
    expect(listed.batches[0]?.gzip).toBe(true);
  });

  it('refuses a token for another audience, an unknown rule or stream and a wrong api-version', async () => {
    expect((await post(JSON.stringify([row]), { token: tokens['graph'] })).status).toBe(401);
    expect((await post(JSON.stringify([row]), { dcr: 'dcr-00000000000000000000000000000000' })).status).toBe(404);
    expect((await post(JSON.stringify([row]), { stream: 'Custom-Other' })).status).toBe(400);
    expect((await post(JSON.stringify([row]), { apiVersion: '2021-11-01-preview' })).status).toBe(400);
    expect(sim.ingestion.rows()).toEqual([]);
  });

  it('refuses a body over 1 MB, rows with undeclared or mistyped columns, and anything but an array', async () => {
    const big = JSON.stringify(Array.from({ length: Math.ceil(MAX_INGESTION_BYTES / 200) }, () => ({ ...row, Detail: 'x'.repeat(200) })));
    expect((await post(big, { gzip: true })).status).toBe(413);
    expect((await post(JSON.stringify([{ ...row, Secret: 'x' }]))).status).toBe(400);
    expect((await post(JSON.stringify([{ ...row, TimeGenerated: 'yesterday' }]))).status).toBe(400);
    expect((await post(JSON.stringify(row))).status).toBe(400);
    expect(sim.ingestion.rows()).toEqual([]);
  });

  it('answers with the failures it is told to, then accepts again', async () => {
    const patch = await fetch(`${sim.url}/_sim/ingested`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ failures: [{ status: 503 }] }) });
    expect(patch.status).toBe(204);
    expect((await post(JSON.stringify([row]))).status).toBe(503);
    expect((await post(JSON.stringify([row]))).status).toBe(204);
  });
});
