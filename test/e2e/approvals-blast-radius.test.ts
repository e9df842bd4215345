import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { decisionBody, parseApprovalLink, readApprovalForm } from '../helpers/approval-form';
import { browse, linkIn, signInAs, ticketTexts } from '../helpers/approval-http';
import { incidentNaming } from '../helpers/incident-naming';
import { settled, type Stack } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

async function enabled(stack: Stack, id: string): Promise<boolean> {
  return ((await (await fetch(`${stack.sim.url}/_sim/objects/${id}`)).json()) as { accountEnabled: boolean }).accountEnabled;
}

describe('containments past the blast-radius limit, end to end through the local host', () => {
  const stack = useStack({ env: { BLAST_RADIUS_PER_HOUR: '1' } });

  it('holds the containment past the hourly limit and runs it once an approver approves, limit or not', async () => {
    const first = incidentNaming(41, [{ id: DEMO.agents.invoice, name: 'Contoso Invoice Agent' }]);
    const second = incidentNaming(42, [{ id: DEMO.agents.orphan, name: 'Abandoned Research Agent' }]);
    stack.sim.state.putIncident(first.seed);
    stack.sim.state.putIncident(second.seed);
    const firstCase = String((await stack.post('/api/alerts', first.trigger)).body['caseId']);
    expect((await stack.waitForCase(firstCase, settled)).status).toBe('done');

    const caseId = String((await stack.post('/api/alerts', second.trigger)).body['caseId']);
    const held = await stack.waitForCase(caseId, settled);
    expect(held.targets[0]?.status).toBe('held');
    expect(held.targets[0]?.reason).toContain('Blast-radius limit');
    expect(await enabled(stack, DEMO.agents.orphan)).toBe(true);

    const link = linkIn((await ticketTexts(stack)).filter((t) => t.includes('Abandoned Research Agent')).join('\n'), stack.url) ?? '';
    const cookie = await signInAs(stack.url, DEMO.approvers[0]);
    const form = readApprovalForm((await browse(stack.url, parseApprovalLink(link).path, { cookie })).html);
    const decided = await browse(stack.url, form?.action ?? '', { cookie, form: decisionBody(form ?? { token: '', af: '' }, 'approve', 'contain it') });
    expect(decided.status).toBe(200);

    const contained = await stack.waitForCase(caseId, (c) => c.targets[0]?.status === 'contained', 10_000);
    expect(contained.targets[0]?.steps.find((s) => s.action === 'disable')?.state).toBe('done');
    expect(await enabled(stack, DEMO.agents.orphan)).toBe(false);
  });
});
