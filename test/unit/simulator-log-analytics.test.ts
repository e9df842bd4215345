import { readFileSync } from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import type { Simulator } from '../../dev/simulator/start-simulator';
import { useSimulator } from '../helpers/use-simulator';

interface QueryAnswer {
  tables: { name: string; columns: { name: string; type: string }[]; rows: unknown[][] }[];
}

/** The rows of the first table as objects keyed by column name. */
function rowsOf(answer: QueryAnswer): Record<string, unknown>[] {
  const table = answer.tables[0];
  return (table?.rows ?? []).map((row) => Object.fromEntries(table?.columns.map((c, i) => [c.name, row[i]]) ?? []));
}

describe('simulator Log Analytics query API', () => {
  const fixture = useSimulator();
  let sim: Simulator;
  const tokens: Record<string, string> = {};

  async function token(resource: string): Promise<Response> {
    return fetch(`${sim.identityEndpoint}?resource=${encodeURIComponent(resource)}&api-version=2019-08-01`, { headers: { 'X-IDENTITY-HEADER': sim.identityHeader } });
  }

  beforeAll(async () => {
    sim = fixture.sim;
    for (const [name, resource] of [
      ['la', 'https://api.loganalytics.io/.default'],
      ['arm', 'https://management.azure.com/.default'],
    ] as const) {
      tokens[name] = ((await (await token(resource)).json()) as { access_token: string }).access_token;
    }
  });
  beforeEach(() => {
    sim.setKnobs({ logAnalyticsReader: true });
  });

  const query = (q: unknown, options: { workspace?: string; bearer?: string } = {}): Promise<Response> =>
    fetch(`${sim.url}/v1/workspaces/${options.workspace ?? DEMO.workspace.customerId}/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.bearer ?? tokens.la ?? ''}`, 'content-type': 'application/json' },
      body: JSON.stringify(typeof q === 'string' ? { query: q } : q),
    });
  const latest = (id: string) => `SecurityAlert | where SystemAlertId == '${id}' | summarize arg_max(TimeGenerated, *) by SystemAlertId`;

  it('issues managed-identity tokens for Log Analytics and refuses a resource Entra does not know', async () => {
    expect((await token('https://api.loganalytics.io')).status).toBe(200);
    const unknown = await token('https://api.example.invalid/.default');
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error_description: string }).error_description).toMatch(/AADSTS500011/);
  });

  it("accepts only a token whose audience is Log Analytics (an ARM token answers 401)", async () => {
    expect((await query(latest(DEMO.alerts.fixture), { bearer: tokens.arm })).status).toBe(401);
    expect((await query(latest(DEMO.alerts.fixture), { bearer: 'not-a-token' })).status).toBe(401);
    expect((await query(latest(DEMO.alerts.fixture))).status).toBe(200);
  });

  it('reads the demo alert-trigger fixture back from its workspace, entities as a JSON string', async () => {
    const fixture = JSON.parse(readFileSync('test/fixtures/sentinel/alert-trigger.entities-array.json', 'utf8')) as Record<string, unknown>;
    expect(fixture.WorkspaceId).toBe(DEMO.workspace.customerId);
    const res = await query(latest(DEMO.alerts.fixture));
    const answer = (await res.json()) as QueryAnswer;
    expect(answer.tables[0]?.name).toBe('PrimaryResult');
    expect(answer.tables[0]?.columns[0]).toEqual({ name: 'SystemAlertId', type: 'string' });
    const [row, ...more] = rowsOf(answer);
    expect(more).toEqual([]);
    expect(row).toMatchObject({ SystemAlertId: fixture.SystemAlertId, TenantId: fixture.WorkspaceId, Status: 'New', AlertSeverity: fixture.Severity });
    expect(typeof row?.Entities).toBe('string');
    expect(JSON.parse(row?.Entities as string)).toEqual(fixture.Entities);
  });

  it("returns an alert's latest row: a changed alert is a new row with the same id", async () => {
    sim.state.addSeed({ securityAlerts: [{ TenantId: DEMO.workspace.customerId, SystemAlertId: DEMO.alerts.incident, TimeGenerated: '2026-11-21T10:00:00Z', Status: 'Dismissed', Entities: [] }] });
    const rows = rowsOf((await (await query(latest(DEMO.alerts.incident))).json()) as QueryAnswer);
    expect(rows.map((r) => r.Status)).toEqual(['Dismissed']);
    const all = rowsOf((await (await query(`SecurityAlert | where SystemAlertId == '${DEMO.alerts.incident}'`)).json()) as QueryAnswer);
    expect(all.map((r) => r.Status)).toEqual(['New', 'Dismissed']);
    const one = rowsOf((await (await query(`SecurityAlert | where SystemAlertId == '${DEMO.alerts.incident}' | take 1`)).json()) as QueryAnswer);
    expect(one).toHaveLength(1);
  });

  it('answers an empty table for an alert the workspace does not hold, and 404 for an unknown workspace', async () => {
    const answer = (await (await query(latest('00000000-0000-4000-8000-000000000000'))).json()) as QueryAnswer;
    expect(answer.tables[0]?.rows).toEqual([]);
    const missing = await query(latest(DEMO.alerts.fixture), { workspace: '00000000-0000-4000-8000-0000000000ff' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('WorkspaceNotFoundError');
  });

  it('answers 403 without the Log Analytics Reader role on the workspace', async () => {
    sim.setKnobs({ logAnalyticsReader: false });
    const res = await query(latest(DEMO.alerts.fixture));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('InsufficientAccessError');
  });

  it('parses string literals as KQL does, so an injected quote cannot widen the query', async () => {
    // A naive client splicing `x' or SystemAlertId != '` would send this; KQL reads `or` as an operator the
    // simulator does not take, and the escaped form stays one literal that matches nothing.
    expect((await query(`SecurityAlert | where SystemAlertId == 'x' or SystemAlertId != ''`)).status).toBe(400);
    const escaped = rowsOf((await (await query(`SecurityAlert | where SystemAlertId == 'x\\' or SystemAlertId != \\''`)).json()) as QueryAnswer);
    expect(escaped).toEqual([]);
    expect((await query(`SecurityAlert | where SystemAlertId == 'x' // '`)).status).toBe(200);
    expect((await query(`SigninLogs | take 1`)).status).toBe(400);
    expect((await query(`SecurityAlert | where SystemAlertId == 'unterminated`)).status).toBe(400);
    expect((await query({ nope: 1 })).status).toBe(400);
  });

  it('filters by an ISO 8601 timespan when one is sent', async () => {
    const old = rowsOf((await (await query({ query: latest(DEMO.alerts.fixture), timespan: 'P1D' })).json()) as QueryAnswer);
    expect(old).toEqual([]);
    expect((await query({ query: latest(DEMO.alerts.fixture), timespan: 'yesterday' })).status).toBe(400);
  });
});
