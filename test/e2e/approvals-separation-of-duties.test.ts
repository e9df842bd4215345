import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { E2E_GRAPH_FEATURES, plannedPermissions } from '../helpers/planned-permissions';
import { decisionBody, pageText, parseApprovalLink, readApprovalForm } from '../helpers/approval-form';
import { approvalsOf, askRelease, auditOf, browse, mintedForm, signInAs, containThroughIncident } from '../helpers/approval-http';
import { type Stack } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';

const DANA = DEMO.human; // sponsor and owner of the demo agents, and (here) on the approvers list


async function clearFaults(stack: Stack): Promise<void> {
  await fetch(`${stack.sim.url}/_sim/faults`, { method: 'DELETE' });
}

describe('separation of duties fails closed: when sponsors and owners cannot be read, nobody decides', () => {
  // The owners test releases a classic service principal: containing it first needs the sp-disable-any opt-in.
  const features = [...E2E_GRAPH_FEATURES, 'sp-disable-any'];
  const stack = useStack({ env: { APPROVERS: [DEMO.approvers[0], DEMO.approvers[1], DEMO.approverGroup, DANA].join(',') }, features });
  /** What the grant script grants for those features: what the stack started with. */
  const granted = () => plannedPermissions(features);

  /** Opens the page as `userId` and, whatever it offers, posts an approval with a valid form for them. */
  async function tryToApprove(link: string, userId: string): Promise<{ page: { status: number; text: string }; post: { status: number; text: string } }> {
    const cookie = await signInAs(stack.url, userId);
    const { id, path } = parseApprovalLink(link);
    const page = await browse(stack.url, path, { cookie });
    const post = await browse(stack.url, `/api/approvals/${id}`, { cookie, form: decisionBody(await mintedForm(stack, link, userId), 'approve') });
    return { page: { status: page.status, text: pageText(page.html) }, post: { status: post.status, text: pageText(post.html) } };
  }

  async function pending(approvalId: string): Promise<void> {
    expect((await (await approvalsOf(stack)).get(approvalId, 'approval'))?.value).toMatchObject({ status: 'pending', decisions: [] });
  }

  it('refuses every approver while the sponsors read fails with 403, 429 or 503, saying why; the refusal is audited', async () => {
    const caseId = await containThroughIncident(stack, 901, { id: DEMO.agents.invoice, name: 'Contoso Invoice Agent' });
    const asked = await askRelease(stack, caseId, { targetId: DEMO.agents.invoice, reason: 'Secret rotated' });
    const link = String(asked.body['approvalUrl']);
    const { id } = parseApprovalLink(link);
    for (const status of [403, 429, 503]) {
      await fetch(`${stack.sim.url}/_sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ method: 'GET', path: `/servicePrincipals/${DEMO.agents.invoice}/microsoft\\.graph\\.agentIdentity/sponsors`, status, times: 1000, retryAfter: 0 }),
      });
      // The sponsor, already known from the read made with the request, stays refused for what she is.
      const sponsor = await tryToApprove(link, DANA);
      expect([sponsor.page.status, sponsor.post.status]).toEqual([403, 403]);
      for (const who of [DEMO.approvers[0], DEMO.approvers[1]]) {
        const { page, post } = await tryToApprove(link, who);
        expect(page.status, `${status} ${who}`).toBe(503);
        expect(page.text).toContain('Nobody can decide this request until the identity');
        expect(post.status, `${status} ${who}`).toBe(503);
        if (status === 403) {
          expect(page.text).toContain('AgentIdentity.ReadWrite.All');
        } else {
          expect(page.text).toContain(`(${status === 429 ? 429 : 503})`);
        }
      }
      await pending(id);
      await clearFaults(stack);
    }
    const refusals = (await auditOf(stack, caseId)).filter((e) => e.action === 'approval.refused' && e.detail?.includes('unverifiable') === true);
    expect(refusals.length).toBeGreaterThanOrEqual(12);
    expect(new Set(refusals.map((e) => e.actor))).toEqual(new Set([DEMO.approvers[0], DEMO.approvers[1]]));

    // Reads back: the sponsor is refused for what she is, and another approver decides.
    expect((await tryToApprove(link, DANA)).post.text).toContain('separation of duties');
    await pending(id);
    expect((await tryToApprove(link, DEMO.approvers[0])).post.status).toBe(200);
    expect((await (await approvalsOf(stack)).get(id, 'approval'))?.value.status).toBe('approved');
  });

  it('names the missing permission when the grant lacks AgentIdentity.ReadWrite.All, and reads sponsors again at decision time', async () => {
    // The grant the issue describes: everything but AgentIdentity.ReadWrite.All; owners are unreadable too.
    stack.sim.setKnobs({ grantedPermissions: granted().filter((p) => p !== 'AgentIdentity.ReadWrite.All') });
    stack.sim.addFault({ method: 'GET', path: `/servicePrincipals/${DEMO.agents.expiring}/owners`, status: 403, times: 1000 });
    let link = '';
    try {
      const caseId = await containThroughIncident(stack, 902, { id: DEMO.agents.expiring, name: 'Quarter-End Reconciliation Agent' });
      const asked = await askRelease(stack, caseId, { targetId: DEMO.agents.expiring, reason: 'Quarter closed' });
      link = String(asked.body['approvalUrl']);
      const { id } = parseApprovalLink(link);
      const stored = (await (await approvalsOf(stack)).get(id, 'approval'))?.value;
      expect(stored?.excluded).not.toContain(DANA);
      expect(stored?.accountable).toMatchObject({ state: 'unreadable', permission: 'AgentIdentity.ReadWrite.All' });
      expect((await auditOf(stack, caseId)).some((e) => e.action === 'approval.sod-unverifiable')).toBe(true);

      await clearFaults(stack);
      const { page, post } = await tryToApprove(link, DANA);
      expect(page.status).toBe(503);
      expect(page.text).toContain("grant the responder's managed identity the Microsoft Graph application permission AgentIdentity.ReadWrite.All");
      expect(post.status).toBe(503);
      await pending(id);
    } finally {
      stack.sim.setKnobs({ grantedPermissions: granted() });
      await clearFaults(stack);
    }
    // Granted: the sponsor, missing from the list stored when the request was made, is found and refused now.
    const { page, post } = await tryToApprove(link, DANA);
    expect(page.status).toBe(403);
    expect(post.text).toContain('separation of duties');
    await pending(parseApprovalLink(link).id);
  });

  it('expands a sponsor group to its members, and fails closed when the members cannot be read', async () => {
    const caseId = await containThroughIncident(stack, 903, { id: DEMO.agents.orphan, name: 'Abandoned Research Agent' });
    const asked = await askRelease(stack, caseId, { targetId: DEMO.agents.orphan, reason: 'Archived' }, DEMO.approvers[1]);
    const link = String(asked.body['approvalUrl']);
    // A sponsor group added after the request was made: Approver 3 is a member.
    const agent = stack.sim.state.live(DEMO.agents.orphan);
    expect(agent).toBeDefined();
    if (agent) {
      agent.sponsors = [DEMO.approverGroup];
    }
    const member = await tryToApprove(link, DEMO.approvers[2]);
    expect(member.page.status).toBe(403);
    expect(member.post.text).toContain('separation of duties');
    expect(stack.sim.calls.some((c) => c.path === `/v1.0/groups/${DEMO.approverGroup}/transitiveMembers`)).toBe(true);

    stack.sim.addFault({ method: 'GET', path: '/groups/.*/transitiveMembers', status: 403, times: 1000 });
    try {
      const outsider = await tryToApprove(link, DEMO.approvers[0]);
      expect(outsider.page.status).toBe(503);
      expect(outsider.page.text).toContain('GroupMember.Read.All');
      expect(outsider.post.status).toBe(503);
    } finally {
      await clearFaults(stack);
    }
    await pending(parseApprovalLink(link).id);
    const form = readApprovalForm((await browse(stack.url, parseApprovalLink(link).path, { cookie: await signInAs(stack.url, DEMO.approvers[0]) })).html);
    expect(form).toBeDefined();
  });

  it('reads every page of the owners: an approver listed as the 121st owner cannot approve', async () => {
    const caseId = await containThroughIncident(stack, 904, { id: DEMO.classicSp, name: 'Support Copilot (classic app)' });
    const asked = await askRelease(stack, caseId, { targetId: DEMO.classicSp, reason: 'Owner rotated the secret' });
    const link = String(asked.body['approvalUrl']);
    const owners: string[] = [];
    for (let i = 1; i <= 120; i++) {
      const id = `0a0e0000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      stack.sim.state.put({ '@odata.type': '#microsoft.graph.user', id, displayName: `Owner ${i}`, userPrincipalName: `owner${i}@contoso.example`, accountEnabled: true });
      owners.push(id);
    }
    const sp = stack.sim.state.live(DEMO.classicSp);
    if (sp) {
      sp.owners = [...owners, DEMO.approvers[1]];
    }
    const { page, post } = await tryToApprove(link, DEMO.approvers[1]);
    expect(page.status).toBe(403);
    expect(post.text).toContain('separation of duties');
    expect(stack.sim.calls.some((c) => c.path === `/v1.0/servicePrincipals/${DEMO.classicSp}/owners` && c.query.includes('skiptoken'))).toBe(true);
    await pending(parseApprovalLink(link).id);
  });
});

