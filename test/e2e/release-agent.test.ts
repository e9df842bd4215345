import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import { decisionBody, pageText, parseApprovalLink, readApprovalForm } from '../helpers/approval-form';
import { approvalsOf, browse, incidentComments, signInAs, ticketTexts, askRelease } from '../helpers/approval-http';
import { incidentNaming } from '../helpers/incident-naming';
import { settled, type Stack } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { E2E_GRAPH_FEATURES } from '../helpers/planned-permissions';

const incident = JSON.parse(readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8')) as Record<string, unknown>;

async function simObject(stack: Stack, id: string): Promise<{ accountEnabled: boolean; riskState: string }> {
  return (await (await fetch(`${stack.sim.url}/_sim/objects/${id}`)).json()) as { accountEnabled: boolean; riskState: string };
}

describe('releasing a contained agent through the approval page, end to end through the local host', () => {
  // Releases a classic service principal too: disabling it needs the sp-disable-any opt-in.
  const stack = useStack({ features: [...E2E_GRAPH_FEATURES, 'sp-disable-any'] });

  it('re-enables the agent, dismisses its risk, notes the ticket and comments on the incident once an approver approves', async () => {
    const posted = await stack.post('/api/alerts', incident);
    const caseId = String(posted.body['caseId']);
    await stack.waitForCase(caseId, settled);
    expect((await simObject(stack, DEMO.agents.invoice)).accountEnabled).toBe(false);
    const commentsBefore = (await incidentComments(stack)).length;

    const asked = await askRelease(stack, caseId, { targetId: DEMO.agents.invoice, reason: 'Secret rotated, activity explained by the vendor' });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ status: 'pending', quorum: 1, created: true });
    const link = String(asked.body['approvalUrl']);
    const { id, path } = parseApprovalLink(link);
    expect(link.startsWith(`${stack.url}/api/approvals/${id}?token=`)).toBe(true);

    // Opening the link, signed out, changes nothing.
    const approvals = await approvalsOf(stack);
    const before = await approvals.get(id, 'approval');
    const anonymous = await browse(stack.url, path);
    expect(anonymous.status).toBe(401);
    expect(pageText(anonymous.html)).toContain('Sign in to view');
    const after = await approvals.get(id, 'approval');
    expect(after?.etag).toBe(before?.etag);
    expect(after?.value.status).toBe('pending');
    expect((await simObject(stack, DEMO.agents.invoice)).accountEnabled).toBe(false);

    const cookie = await signInAs(stack.url, DEMO.approvers[0]);
    const page = await browse(stack.url, path, { cookie });
    expect(page.status).toBe(200);
    expect(pageText(page.html)).toContain('Re-enable agent identity "Contoso Invoice Agent"');
    const form = readApprovalForm(page.html);
    expect(form?.action).toBe(`/api/approvals/${id}`);

    const decided = await browse(stack.url, form?.action ?? '', { cookie, form: decisionBody(form ?? { token: '', af: '' }, 'approve', 'Vendor confirmed') });
    expect(decided.status).toBe(200);
    expect(pageText(decided.html)).toContain('Your approval is recorded. The request is approved');

    const c = await stack.waitForCase(caseId, (x) => x.targets.some((t) => t.objectId === DEMO.agents.invoice && t.status === 'released'));
    const agent = c.targets.find((t) => t.objectId === DEMO.agents.invoice);
    expect(agent?.reason).toContain(`Released agent identity "Contoso Invoice Agent": approved by ${DEMO.approverUpns[0]}`);
    expect(agent?.steps.filter((s) => s.action === 'enable' || s.action === 'dismiss-risk').map((s) => s.state)).toEqual(['done', 'done']);
    await expect.poll(async () => (await simObject(stack, DEMO.agents.invoice)).accountEnabled).toBe(true);
    expect((await simObject(stack, DEMO.agents.invoice)).riskState).toBe('dismissed');
    expect(stack.sim.calls.some((call) => call.method === 'POST' && call.path === '/beta/identityProtection/riskyAgents/dismiss')).toBe(true);
    await expect.poll(async () => (await ticketTexts(stack)).some((t) => t.startsWith('[Agent responders] released') && t.includes('Released agent identity "Contoso Invoice Agent"'))).toBe(true);
    await expect.poll(async () => (await incidentComments(stack)).slice(commentsBefore).filter((t) => t.includes('Released agent identity "Contoso Invoice Agent"')).length).toBe(1);
    // The request itself was announced on the incident too, with its link.
    expect((await incidentComments(stack)).slice(commentsBefore).some((t) => t.includes(link))).toBe(true);

    // Later visits show the outcome; a second approver can no longer decide.
    const second = await browse(stack.url, path, { cookie: await signInAs(stack.url, DEMO.approvers[1]) });
    expect(second.status).toBe(200);
    expect(readApprovalForm(second.html)).toBeUndefined();
    expect(pageText(second.html)).toContain('Approved');
    expect(pageText(second.html)).toContain(`${DEMO.approverUpns[0]} approved at`);
  });

  it('changes nothing when an approver rejects, and the case says who rejected and why', async () => {
    const classic = incidentNaming(21, [{ id: DEMO.plainSp, name: 'Payroll Export Service' }]);
    stack.sim.state.putIncident(classic.seed);
    const caseId = String((await stack.post('/api/alerts', classic.trigger)).body['caseId']);
    await stack.waitForCase(caseId, settled);
    expect((await simObject(stack, DEMO.plainSp)).accountEnabled).toBe(false);

    const asked = await askRelease(stack, caseId, { targetId: DEMO.plainSp, reason: 'Payroll run tonight' });
    const { id, path } = parseApprovalLink(String(asked.body['approvalUrl']));
    const cookie = await signInAs(stack.url, DEMO.approvers[1]);
    const form = readApprovalForm((await browse(stack.url, path, { cookie })).html);
    const rejected = await browse(stack.url, `/api/approvals/${id}`, { cookie, form: decisionBody(form ?? { token: '', af: '' }, 'reject', 'Not before the forensic image is taken') });
    expect(rejected.status).toBe(200);
    expect(pageText(rejected.html)).toContain('Your rejection is recorded');

    const c = await stack.waitForCase(caseId, (x) => x.targets.some((t) => t.reason?.includes('Release rejected') === true));
    const target = c.targets.find((t) => t.objectId === DEMO.plainSp);
    expect(target?.status).toBe('contained');
    expect(target?.reason).toContain(`Release rejected by ${DEMO.approverUpns[1]}`);
    expect(target?.reason).toContain('"Not before the forensic image is taken"');
    expect(target?.steps.some((s) => s.action === 'enable')).toBe(false);
    expect((await simObject(stack, DEMO.plainSp)).accountEnabled).toBe(false);
    expect((await (await approvalsOf(stack)).get(id, 'approval'))?.value.status).toBe('rejected');
    expect(stack.sim.calls.some((call) => call.method === 'PATCH' && call.path.includes(DEMO.plainSp) && JSON.stringify(call.body).includes('true'))).toBe(false);
  });
});
