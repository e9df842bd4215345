import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { pageText, parseApprovalLink } from '../helpers/approval-form';
import { approvalsOf, browse, decideOnPage, incidentComments, linkIn, signInAs, ticketTexts, askRelease } from '../helpers/approval-http';
import { incidentNaming } from '../helpers/incident-naming';
import { settled, type Stack } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

async function enabled(stack: Stack, id: string): Promise<boolean> {
  return ((await (await fetch(`${stack.sim.url}/_sim/objects/${id}`)).json()) as { accountEnabled: boolean }).accountEnabled;
}

describe('containments held for approval, end to end through the local host', () => {
  const stack = useStack({ env: { REQUIRE_APPROVAL_IDENTITIES: DEMO.classicSp } });

  it('holds a blueprint principal until one approver approves, then needs two approvers to release it', async () => {
    const incident = incidentNaming(31, [{ id: DEMO.blueprintPrincipal, name: 'Contoso Finance Agent Blueprint' }]);
    stack.sim.state.putIncident(incident.seed);
    const caseId = String((await stack.post('/api/alerts', incident.trigger)).body['caseId']);
    const held = await stack.waitForCase(caseId, settled);
    expect(held.status).toBe('held');
    expect(held.targets[0]?.status).toBe('held');
    expect(await enabled(stack, DEMO.blueprintPrincipal)).toBe(true);

    // The link reaches approvers through the ticket and the incident comment.
    const link = linkIn((await ticketTexts(stack)).join('\n'), stack.url);
    expect(link).toBeDefined();
    expect((await incidentComments(stack)).some((c) => c.includes(link ?? '?'))).toBe(true);
    const containPage = pageText((await browse(stack.url, parseApprovalLink(link ?? '').path, { cookie: await signInAs(stack.url, DEMO.approvers[0]) })).html);
    expect(containPage).toContain('This disables EVERY agent created from this blueprint');
    expect(containPage).toContain('One approval decides this request');

    expect(await decideOnPage(stack, link ?? '', DEMO.approvers[0], 'approve')).toContain('The request is approved');
    const contained = await stack.waitForCase(caseId, (c) => c.targets[0]?.status === 'contained');
    expect(contained.targets[0]?.steps.find((s) => s.action === 'disable')?.state).toBe('done');
    expect(await enabled(stack, DEMO.blueprintPrincipal)).toBe(false);

    const asked = await askRelease(stack, caseId, { targetId: DEMO.blueprintPrincipal, reason: 'Blueprint credentials rotated' });
    expect(asked.body).toMatchObject({ status: 'pending', quorum: 2 });
    const releaseLink = String(asked.body['approvalUrl']);
    const firstPage = await decideOnPage(stack, releaseLink, DEMO.approvers[0], 'approve');
    expect(firstPage).toContain('1 of 2 approvals so far; waiting for 1 more person');
    const approvals = await approvalsOf(stack);
    expect((await approvals.get(parseApprovalLink(releaseLink).id, 'approval'))?.value.status).toBe('pending');
    expect(await enabled(stack, DEMO.blueprintPrincipal)).toBe(false);

    expect(await decideOnPage(stack, releaseLink, DEMO.approvers[1], 'approve')).toContain('The request is approved');
    await stack.waitForCase(caseId, (c) => c.targets[0]?.status === 'released' && c.targets[0].reason?.startsWith('Released') === true);
    await expect.poll(() => enabled(stack, DEMO.blueprintPrincipal)).toBe(true);
  });

  it('records a rejected containment of a listed identity, changes nothing and tells the ticket', async () => {
    const incident = incidentNaming(32, [{ id: DEMO.classicSp, name: 'Support Copilot (classic app)' }]);
    stack.sim.state.putIncident(incident.seed);
    const caseId = String((await stack.post('/api/alerts', incident.trigger)).body['caseId']);
    const held = await stack.waitForCase(caseId, settled);
    expect(held.targets[0]?.reason).toContain('REQUIRE_APPROVAL_IDENTITIES');
    const link = linkIn((await ticketTexts(stack)).filter((t) => t.includes('Support Copilot')).join('\n'), stack.url);

    expect(await decideOnPage(stack, link ?? '', DEMO.approvers[1], 'reject', 'Business critical; rotate its secret instead')).toContain('Your rejection is recorded');

    const after = await stack.waitForCase(caseId, (c) => c.targets[0]?.status === 'rejected' && c.status !== 'held');
    expect(after.targets[0]?.reason).toContain(`Containment rejected by ${DEMO.approverUpns[1]}`);
    expect(after.targets[0]?.reason).toContain('"Business critical; rotate its secret instead"');
    expect(after.targets[0]?.steps.every((s) => s.state === 'held')).toBe(true);
    expect(await enabled(stack, DEMO.classicSp)).toBe(true);
    await expect.poll(async () => (await ticketTexts(stack)).some((t) => t.includes('Containment rejected by'))).toBe(true);
  });
});
