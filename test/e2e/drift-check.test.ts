import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEMO } from '../../dev/simulator/demo-ids';
import { deterministicGuid } from '../../shared/store/deterministic-guid';
import { settled } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

const incident = JSON.parse(readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;

describe('the drift-check timer, end to end through the local host', () => {
  const stack = useStack();

  it('contains again an agent re-enabled behind the responder’s back, with a ticket and a comment on the original incident', async () => {
    const res = await stack.post('/api/alerts', incident);
    const originalId = String(res.body['caseId']);
    expect((await stack.waitForCase(originalId, settled)).status).toBe('done');

    const patch = await fetch(`${stack.sim.url}/_sim/objects/${DEMO.agents.invoice}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accountEnabled: true }) });
    expect(patch.status).toBe(200);
    const run = await fetch(`${stack.url}/admin/functions/drift-check?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(run.status).toBe(200);

    // The drift case's id follows from the original case, the target and its round, so a repeated check finds it.
    const driftId = deterministicGuid(`drift|${originalId}|oid:${DEMO.agents.invoice}|0`);
    const drift = await stack.waitForCase(driftId, settled);
    expect(drift).toMatchObject({ status: 'done', relatedCaseId: originalId, source: 'drift' });
    expect(drift.targets[0]).toMatchObject({ objectId: DEMO.agents.invoice, status: 'contained' });
    const agent = (await (await fetch(`${stack.sim.url}/_sim/objects/${DEMO.agents.invoice}`)).json()) as { accountEnabled: boolean };
    expect(agent.accountEnabled).toBe(false);

    const original = await stack.waitForCase(originalId, settled);
    expect(original.targets.find((t) => t.objectId === DEMO.agents.invoice)?.status).toBe('joined');
    const comments = (await (await fetch(`${stack.sim.url}/_sim/comments`)).json()) as { value: unknown[] };
    expect(comments.value).toHaveLength(2);
    const tickets = ((await (await fetch(`${stack.sim.url}/_sim/tickets`)).json()) as { servicenow: { correlation_id: string }[] }).servicenow;
    expect(tickets.map((t) => t.correlation_id)).toEqual([`agent-responders:${originalId}`, `agent-responders:${driftId}`]);
  });
});
