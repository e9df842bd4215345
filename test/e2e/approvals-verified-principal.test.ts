import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { LOCAL_AUTH } from '../../dev/app-env';
import { DEMO } from '../../dev/simulator/demo-ids';
import { decisionBody, pageText, parseApprovalLink, readApprovalForm } from '../helpers/approval-form';
import { approvalsOf, askRelease, auditOf, browse, linkIn, mintedForm, signInAs, ticketTexts, containThroughIncident } from '../helpers/approval-http';
import { mintAccessToken, mintIdToken } from '../helpers/approval-sign-in';
import { settled, type Stack } from '../helpers/start-stack';
import { useStack } from '../helpers/use-stack';
import { E2E_GRAPH_FEATURES } from '../helpers/planned-permissions';
import { incidentNaming } from '../helpers/incident-naming';

/** `x-ms-client-principal` as an attacker writes it: base64 JSON naming someone's object id (not a secret). */
const forgedPrincipal = (oid: string): Record<string, string> => ({
  'x-ms-client-principal': Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: oid }] })).toString('base64'),
  'x-ms-client-principal-id': oid,
  'x-ms-client-principal-idp': 'aad',
});

/** The genuine claims of `token`, re-signed with a key the tenant never published (same key id). */
async function resigned(token: string): Promise<string> {
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: decodeProtectedHeader(token).kid ?? '' }).sign(privateKey);
}

async function enabled(stack: Stack, id: string): Promise<boolean> {
  return ((await (await fetch(`${stack.sim.url}/_sim/objects/${id}`)).json()) as { accountEnabled: boolean }).accountEnabled;
}


describe('with App Service Authentication off (as a deployment without sign-in leaves it), nobody is anybody', () => {
  // No Easy Auth in front: client-sent principal headers reach the app untouched, as on App Service.
  const stack = useStack({ env: { LOCAL_DEV_EASY_AUTH: 'false', INTAKE_ALLOWED_CALLERS: '', INTAKE_ALLOW_ANY_CALLER: 'true' } });

  it('says so in /api/health and in a warning at start-up', async () => {
    const health = await stack.get('/api/health');
    expect(health.body['auth']).toMatchObject({ signIn: 'off', detail: expect.stringContaining('WEBSITE_AUTH_ENABLED') as string });
    expect(stack.host.output()).toMatch(/Sign-in: off\. App Service Authentication is off/);
  });

  it('lets a forged principal header naming an approver neither ask for a release, nor open the form, nor decide', async () => {
    const caseId = await containThroughIncident(stack, 801, { id: DEMO.agents.invoice, name: 'Contoso Invoice Agent' });
    const asForged = await stack.post(`/api/cases/${caseId}/release`, { targetId: DEMO.agents.invoice, reason: 'trust me' }, forgedPrincipal(DEMO.approvers[0]));
    expect(asForged.status).toBe(403);
    expect(asForged.headers.get('content-type')).toContain('application/problem+json');
    expect(String(asForged.body['detail'])).toContain('signed-in person');
    // Even a genuine ID token counts for nothing while the app cannot know Easy Auth is in front.
    const withToken = await stack.post(`/api/cases/${caseId}/release`, { targetId: DEMO.agents.invoice, reason: 'trust me' }, { 'x-ms-token-aad-id-token': await mintIdToken(stack.sim.url, DEMO.approvers[0]) });
    expect(withToken.status).toBe(403);

    // A held containment (a blueprint principal) still gets an approval; nobody can decide it.
    const held = await containThroughIncident(stack, 802, { id: DEMO.blueprintPrincipal, name: 'Contoso Finance Agent Blueprint' });
    const link = linkIn((await ticketTexts(stack)).join('\n'), stack.url) ?? '';
    const { id, path } = parseApprovalLink(link);
    const page = await browse(stack.url, path, { headers: forgedPrincipal(DEMO.approvers[0]) });
    expect(page.status).toBe(503);
    expect(pageText(page.html)).toContain('Approvals are unavailable');
    expect(readApprovalForm(page.html)).toBeUndefined();
    const posted = await browse(stack.url, `/api/approvals/${id}`, { headers: forgedPrincipal(DEMO.approvers[0]), form: decisionBody(await mintedForm(stack, link, DEMO.approvers[0]), 'approve') });
    expect(posted.status).toBe(503);
    expect((await (await approvalsOf(stack)).get(id, 'approval'))?.value).toMatchObject({ status: 'pending', decisions: [] });
    expect(await enabled(stack, DEMO.blueprintPrincipal)).toBe(true);
    expect((await auditOf(stack, held)).some((e) => e.action === 'approval.refused' && e.detail?.includes('auth-off') === true)).toBe(true);
  });
});

describe('with App Service Authentication on, reached around Easy Auth (every header as the client sent it)', () => {
  // Containing the classic service principal below needs the sp-disable-any opt-in.
  const stack = useStack({ env: { LOCAL_DEV_EASY_AUTH: 'false', WEBSITE_AUTH_ENABLED: 'True' }, features: [...E2E_GRAPH_FEATURES, 'sp-disable-any'] });
  const idToken = (oid: string) => mintIdToken(stack.sim.url, oid);

  it('refuses a release asked with the function key alone, a forged header or a forged token; records the verified person who asks', async () => {
    const caseId = await containThroughIncident(stack, 811, { id: DEMO.agents.invoice, name: 'Contoso Invoice Agent' });
    const body = { targetId: DEMO.agents.invoice, reason: 'Secret rotated' };
    for (const headers of [{}, forgedPrincipal(DEMO.approvers[2]), { 'x-ms-token-aad-id-token': await resigned(await idToken(DEMO.approvers[2])) }]) {
      const refused = await stack.post(`/api/cases/${caseId}/release`, body, headers);
      expect(refused.status, JSON.stringify(Object.keys(headers))).toBe(401);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
    }
    const asked = await stack.post(`/api/cases/${caseId}/release`, body, { 'x-ms-token-aad-id-token': await idToken(DEMO.approvers[2]) });
    expect(asked.status).toBe(202);
    const { id } = parseApprovalLink(String(asked.body['approvalUrl']));
    expect((await (await approvalsOf(stack)).get(id, 'approval'))?.value).toMatchObject({ requestedBy: DEMO.approvers[2], requestedByName: DEMO.approverUpns[2] });
  });

  it('never lets the requester approve, and lets only a verified approver decide', async () => {
    const caseId = await containThroughIncident(stack, 812, { id: DEMO.plainSp, name: 'Payroll Export Service' });
    const asked = await stack.post(`/api/cases/${caseId}/release`, { targetId: DEMO.plainSp, reason: 'vendor fixed it' }, { 'x-ms-token-aad-id-token': await idToken(DEMO.approvers[0]) });
    const link = String(asked.body['approvalUrl']);
    const { id, path } = parseApprovalLink(link);

    // The requester is on the approvers list, but asked: refused on the page and on a post with a valid form.
    const own = await browse(stack.url, path, { headers: { 'x-ms-token-aad-id-token': await idToken(DEMO.approvers[0]) } });
    expect(own.status).toBe(403);
    expect(pageText(own.html)).toContain('separation of duties');
    const ownPost = await browse(stack.url, `/api/approvals/${id}`, { headers: { 'x-ms-token-aad-id-token': await idToken(DEMO.approvers[0]) }, form: decisionBody(await mintedForm(stack, link, DEMO.approvers[0]), 'approve') });
    expect(ownPost.status).toBe(403);

    // Forged header, forged token, another approver's header over the requester's token: sign in, nothing else.
    const attempts: Record<string, string>[] = [
      forgedPrincipal(DEMO.approvers[1]),
      { 'x-ms-token-aad-id-token': await resigned(await idToken(DEMO.approvers[1])) },
      { ...forgedPrincipal(DEMO.approvers[1]), 'x-ms-token-aad-id-token': await idToken(DEMO.human) },
      { 'x-ms-token-aad-id-token': await mintAccessToken(stack.sim.url, DEMO.approvers[1], { audience: LOCAL_AUTH.clientId }) },
    ];
    for (const headers of attempts) {
      const page = await browse(stack.url, path, { headers });
      expect(page.status).toBe(401);
      expect(readApprovalForm(page.html)).toBeUndefined();
      const post = await browse(stack.url, `/api/approvals/${id}`, { headers, form: decisionBody(await mintedForm(stack, link, DEMO.approvers[1]), 'approve') });
      expect(post.status).toBe(401);
    }
    expect((await (await approvalsOf(stack)).get(id, 'approval'))?.value).toMatchObject({ status: 'pending', decisions: [] });
    expect(await enabled(stack, DEMO.plainSp)).toBe(false);

    const approver = { 'x-ms-token-aad-id-token': await idToken(DEMO.approvers[1]) };
    const form = readApprovalForm((await browse(stack.url, path, { headers: approver })).html);
    const decided = await browse(stack.url, `/api/approvals/${id}`, { headers: approver, form: decisionBody(form ?? { token: '', af: '' }, 'reject', 'Payroll runs tonight; keep it off') });
    expect(pageText(decided.html)).toContain('Your rejection is recorded');
  });

  it('shows a decided request to nobody unsigned, and its people and comments to the approvers and requester only', async () => {
    const caseId = await containThroughIncident(stack, 813, { id: DEMO.agents.orphan, name: 'Abandoned Research Agent' });
    const asked = await stack.post(`/api/cases/${caseId}/release`, { targetId: DEMO.agents.orphan, reason: 'Research finished, release for archiving' }, { 'x-ms-token-aad-id-token': await idToken(DEMO.approvers[2]) });
    const link = String(asked.body['approvalUrl']);
    const { id, path } = parseApprovalLink(link);
    const approver = { 'x-ms-token-aad-id-token': await idToken(DEMO.approvers[0]) };
    const form = readApprovalForm((await browse(stack.url, path, { headers: approver })).html);
    await browse(stack.url, `/api/approvals/${id}`, { headers: approver, form: decisionBody(form ?? { token: '', af: '' }, 'reject', 'Secret comment: legal hold on this agent') });

    const secrets = ['Secret comment', DEMO.approverUpns[0], DEMO.approverUpns[2], 'Research finished', 'Rejected'];
    for (const headers of [{}, forgedPrincipal(DEMO.approvers[0])]) {
      const page = await browse(stack.url, path, { headers });
      expect(page.status).toBe(401);
      const text = pageText(page.html);
      expect(text).toContain('Sign in to view');
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
      }
    }
    // Signed in, but neither an approver nor the requester (the human sponsor of other agents).
    const stranger = await browse(stack.url, path, { headers: { 'x-ms-token-aad-id-token': await idToken(DEMO.human) } });
    expect(stranger.status).toBe(403);
    for (const secret of secrets) {
      expect(pageText(stranger.html)).not.toContain(secret);
    }
    for (const allowed of [DEMO.approvers[1], DEMO.approvers[2]]) {
      const page = pageText((await browse(stack.url, path, { headers: { 'x-ms-token-aad-id-token': await idToken(allowed) } })).html);
      expect(page).toContain('Secret comment: legal hold on this agent');
    }
    expect((await auditOf(stack, caseId)).filter((e) => e.action === 'approval.viewed').length).toBeGreaterThanOrEqual(5);
  });

  it("takes the intake's caller from a verified access token only, and records it as the requester of a direct request", async () => {
    const incident = incidentNaming(814, [{ id: DEMO.agents.expiring, name: 'Quarter-End Reconciliation Agent' }]);
    stack.sim.state.putIncident(incident.seed);
    const playbookToken = await mintAccessToken(stack.sim.url, LOCAL_AUTH.playbook.objectId, { appId: LOCAL_AUTH.playbook.appId });
    const refused = [
      { authorization: '', ...forgedPrincipal(LOCAL_AUTH.playbook.objectId) },
      { authorization: `Bearer ${await mintAccessToken(stack.sim.url, DEMO.classicSp)}` },
    ];
    for (const headers of refused) {
      const res = await stack.post('/api/alerts', incident.trigger, headers);
      expect(res.status).toBe(403);
      expect(res.body['type']).toMatch(/caller-not-allowed/);
    }
    const forged = await stack.post('/api/alerts', incident.trigger, { authorization: `Bearer ${await resigned(playbookToken)}` });
    expect(forged.status).toBe(401);
    expect(await enabled(stack, DEMO.agents.expiring)).toBe(true);

    const direct = await stack.post('/api/alerts', { targets: [{ id: DEMO.agents.expiring }], reason: 'Playbook run by the SOC on a reported agent' }, { authorization: `Bearer ${playbookToken}` });
    expect(direct.status).toBe(202);
    const held = await stack.waitForCase(String(direct.body['caseId']), settled);
    expect(held).toMatchObject({ status: 'held' });
    expect((held as unknown as { requestedBy: string }).requestedBy).toBe(LOCAL_AUTH.playbook.objectId);
    const approvalId = held.targets[0]?.approvalId ?? '';
    expect((await (await approvalsOf(stack)).get(approvalId, 'approval'))?.value.requestedBy).toBe(LOCAL_AUTH.playbook.objectId);
  });
});

describe('the local stand-in for Easy Auth behaves like the platform (token store on)', () => {
  const stack = useStack();

  it('strips client-sent principal and token headers, answers 401 to a bad bearer token, and passes a signed ID token after sign-in', async () => {
    const caseId = await containThroughIncident(stack, 821, { id: DEMO.agents.invoice, name: 'Contoso Invoice Agent' });
    const body = { targetId: DEMO.agents.invoice, reason: 'Secret rotated' };
    // A genuine ID token sent by the client is dropped by the front end, as Easy Auth drops it.
    const smuggled = await stack.post(`/api/cases/${caseId}/release`, body, { ...forgedPrincipal(DEMO.approvers[2]), 'x-ms-token-aad-id-token': await mintIdToken(stack.sim.url, DEMO.approvers[2]) });
    expect(smuggled.status).toBe(401);
    const badBearer = await stack.post('/api/alerts', { targets: [{ id: DEMO.agents.invoice }], reason: 'x' }, { authorization: `Bearer ${await resigned(await mintAccessToken(stack.sim.url, LOCAL_AUTH.playbook.objectId))}` });
    expect(badBearer.status).toBe(401);
    expect(badBearer.headers.get('www-authenticate')).toBe('Bearer');

    const me = await browse(stack.url, '/.auth/me', { cookie: await signInAs(stack.url, DEMO.approvers[2]) });
    const idToken = (JSON.parse(me.html) as { id_token?: string }[])[0]?.id_token ?? '';
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims).toMatchObject({ oid: DEMO.approvers[2], aud: LOCAL_AUTH.clientId, iss: stack.sim.openIdIssuer, tid: DEMO.tenantId });
    expect((await askRelease(stack, caseId, body)).status).toBe(202);
  });
});

