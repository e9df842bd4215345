import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { auditOf } from '../helpers/approval-http';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

const incident = JSON.parse(readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;

/** The structured lines (`{"event":…}`) the host printed, parsed. */
function events(output: string): Record<string, unknown>[] {
  return output.split('\n').flatMap((line) => {
    const start = line.indexOf('{"event":');
    if (start < 0) {
      return [];
    }
    try {
      return [JSON.parse(line.slice(start)) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

describe('telemetry of a containment through the local host', () => {
  const stack = useStack();

  it('logs every step and state change once with the case id, and sends every audit row of the case to the audit stream once', async () => {
    const res = await stack.post('/api/alerts', incident);
    expect(res.status).toBe(202);
    const caseId = String(res.body['caseId']);
    const c = await stack.waitForCase(caseId, settled);
    expect(c.targets.find((t) => t.objectId === DEMO.agents.invoice)?.status).toBe('contained');

    const audit = await auditOf(stack, caseId);
    await expect.poll(() => stack.sim.ingestion.rows().filter((r) => r['CaseId'] === caseId).length, { timeout: 15_000, interval: 200 }).toBe(audit.length);
    const ingested = stack.sim.ingestion.rows().filter((r) => r['CaseId'] === caseId);
    expect(ingested.map((r) => r['TimeGenerated']).sort()).toEqual(audit.map((a) => a.at).sort());

    await expect.poll(() => events(stack.host.output()).filter((e) => e['caseId'] === caseId && e['event'] === 'audit').length, { timeout: 5_000 }).toBe(audit.length);
    const mine = events(stack.host.output()).filter((e) => e['caseId'] === caseId);
    const steps = mine.filter((e) => e['event'] === 'step').map((e) => `${String(e['action'])} ${String(e['state'])}`);
    expect(steps.sort()).toEqual(['confirm-compromised done', 'disable done', 'comment done', 'ticket done'].sort());
    const cut = mine.filter((e) => e['event'] === 'access-cut');
    expect(cut).toEqual([expect.objectContaining({ targetId: DEMO.agents.invoice, kind: 'agentIdentity', timeToContainMs: c.targets[0]?.timeToAccessCutMs })]);
    // Nothing secret in the host's output or in what was ingested.
    const text = stack.host.output() + JSON.stringify(stack.sim.ingestion.batches);
    for (const secret of [stack.env['SERVICENOW_PASSWORD'] ?? 'unset', stack.env['APPROVAL_SIGNING_KEY'] ?? 'unset', stack.sim.teams.sig, 'Bearer ey']) {
      expect(text).not.toContain(secret);
    }
  });

  it('logs a refused request with its status and problem type, not as a success', async () => {
    const approvalId = '0123456789abcdef01234567';
    const refused = await fetch(`${stack.url}/api/approvals/${approvalId}?token=not-a-real-link-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(refused.status).toBe(415);
    await expect
      .poll(() => events(stack.host.output()).filter((e) => e['event'] === 'http.refused' && e['approvalId'] === approvalId), { timeout: 5_000 })
      .toEqual([expect.objectContaining({ status: 415, function: 'approvals-post', problemType: 'https://agent-responders.dev/problems/unsupported-media-type', path: `/api/approvals/${approvalId}` })]);
    expect(stack.host.output()).not.toContain('not-a-real-link-token');
  });
});
