import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../dev/simulator/demo-ids';
import type { Simulator } from '../../dev/simulator/start-simulator';
import { startSimulator } from '../../dev/simulator/start-simulator';
import { simulatorToken } from '../helpers/simulator-token';
import { everyFeaturePermissions } from '../helpers/planned-permissions';

interface GraphErrorBody {
  error: { code: string; message: string; innerError?: Record<string, string> };
}

describe('simulator Graph', () => {
  let sim: Simulator;
  let token: string;

  async function graph(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${sim.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function admin(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${sim.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  beforeAll(async () => {
    sim = await startSimulator();
    token = await simulatorToken(sim);
  });
  afterAll(async () => {
    await sim.stop();
  });
  beforeEach(async () => {
    await admin('POST', '/_sim/reset', {});
    await admin('PATCH', '/_sim/knobs', { grantedPermissions: everyFeaturePermissions(), identityProtectionThrottle: false });
  });

  it('resolves every kind in one getByIds call, omitting unknown ids', async () => {
    const unknown = '00000000-0000-4000-8000-0000000000ee';
    const res = await graph('POST', '/v1.0/directoryObjects/getByIds', {
      ids: [DEMO.agents.invoice, DEMO.blueprintPrincipal, DEMO.classicSp, DEMO.agentUsers[0], DEMO.human, unknown],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as { value: { id: string; '@odata.type': string }[] };
    const types = Object.fromEntries(body.value.map((o) => [o.id, o['@odata.type']]));
    expect(types).toEqual({
      [DEMO.agents.invoice]: '#microsoft.graph.agentIdentity',
      [DEMO.blueprintPrincipal]: '#microsoft.graph.agentIdentityBlueprintPrincipal',
      [DEMO.classicSp]: '#microsoft.graph.servicePrincipal',
      [DEMO.agentUsers[0]]: '#microsoft.graph.agentUser',
      [DEMO.human]: '#microsoft.graph.user',
    });
    const tooMany = await graph('POST', '/v1.0/directoryObjects/getByIds', { ids: Array.from({ length: 1001 }, () => unknown) });
    expect(tooMany.status).toBe(400);
  });

  it('disables an agent identity through the cast and shows it in the admin view', async () => {
    const res = await graph('PATCH', `/v1.0/servicePrincipals/${DEMO.agents.invoice}/microsoft.graph.agentIdentity`, {
      accountEnabled: false,
    });
    expect(res.status).toBe(204);
    const obj = (await (await admin('GET', `/_sim/objects/${DEMO.agents.invoice}`)).json()) as Record<string, unknown>;
    expect(obj.accountEnabled).toBe(false);
    expect(obj['@odata.type']).toBe('#microsoft.graph.agentIdentity');
    const wrongKind = await graph('PATCH', `/v1.0/servicePrincipals/${DEMO.classicSp}/agentIdentity`, { accountEnabled: false });
    expect(wrongKind.status).toBe(404);
    expect(((await wrongKind.json()) as GraphErrorBody).error.code).toBe('Request_ResourceNotFound');
  });

  it('rejects a property the schema does not have', async () => {
    const res = await graph('PATCH', `/v1.0/servicePrincipals/${DEMO.classicSp}`, { accountEnabled: false, xyz: 1 });
    expect(res.status).toBe(400);
    const body = (await res.json()) as GraphErrorBody;
    expect(body.error.code).toBe('Request_BadRequest');
    expect(body.error.message).toBe("Property 'xyz' does not exist on type 'microsoft.graph.servicePrincipal'.");
    expect(body.error.innerError?.['request-id']).toBe(res.headers.get('request-id'));
    const badType = await graph('PATCH', `/v1.0/servicePrincipals/${DEMO.classicSp}`, { accountEnabled: 'no' });
    expect(badType.status).toBe(400);
    const badSelect = await graph('GET', `/v1.0/servicePrincipals/${DEMO.classicSp}?$select=id,colour`);
    expect(((await badSelect.json()) as GraphErrorBody).error.message).toBe(
      "Could not find a property named 'colour' on type 'microsoft.graph.servicePrincipal'.",
    );
  });

  it('answers 400 for beta-only riskyAgents under v1.0 and 204 under beta', async () => {
    const v1 = await graph('POST', '/v1.0/identityProtection/riskyAgents/confirmCompromised', { agentIds: [DEMO.agents.invoice] });
    expect(v1.status).toBe(400);
    expect(((await v1.json()) as GraphErrorBody).error).toMatchObject({
      code: 'BadRequest',
      message: "Resource not found for the segment 'riskyAgents'.",
    });
    const beta = await graph('POST', '/beta/identityProtection/riskyAgents/microsoft.graph.confirmCompromised', {
      agentIds: [DEMO.agents.invoice, DEMO.agentUsers[0]],
    });
    expect(beta.status).toBe(204);
    expect(sim.state.get(DEMO.agents.invoice)).toMatchObject({ riskState: 'confirmedCompromised', riskLevel: 'high' });
    const wrongBody = await graph('POST', '/beta/identityProtection/riskyAgents/confirmCompromised', { ids: [DEMO.agents.invoice] });
    expect(wrongBody.status).toBe(400);
    const wrongKind = await graph('POST', '/v1.0/identityProtection/riskyServicePrincipals/confirmCompromised', {
      servicePrincipalIds: [DEMO.agents.invoice],
    });
    expect(wrongKind.status).toBe(400);
    const list = (await (await graph('GET', '/beta/identityProtection/riskyAgents')).json()) as { value: { id: string }[] };
    expect(list.value.map((v) => v.id).sort()).toEqual([DEMO.agents.invoice, DEMO.agentUsers[0]].sort());
  });

  it('pages through 250 generated agents with $top=100', async () => {
    await admin('POST', '/_sim/reset', { seed: 'empty' });
    const gen = await admin('POST', '/_sim/generate', { agents: 250, orphanFraction: 0.2 });
    expect(gen.status).toBe(201);
    const seen: string[] = [];
    let next: string | undefined = '/v1.0/servicePrincipals/microsoft.graph.agentIdentity?$top=100&$select=id,displayName';
    let pages = 0;
    while (next) {
      const res = await graph('GET', next.replace(sim.url, ''));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { value: { id: string; accountEnabled?: boolean }[]; '@odata.nextLink'?: string };
      seen.push(...body.value.map((v) => v.id));
      expect(body.value[0]).not.toHaveProperty('accountEnabled');
      next = body['@odata.nextLink'];
      if (next) {
        expect(next.startsWith(`${sim.url}/v1.0/`)).toBe(true);
      }
      pages++;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(250);
    const tooBig = await graph('GET', '/v1.0/servicePrincipals/microsoft.graph.agentIdentity?$top=101');
    expect(tooBig.status).toBe(400);
  });

  it('filters, selects and counts service principals', async () => {
    const tagged = await graph('GET', "/v1.0/servicePrincipals?$filter=tags/any(t:t eq 'agent') and accountEnabled eq true&$select=id,tags");
    const body = (await tagged.json()) as { value: { id: string }[] };
    expect(body.value.map((v) => v.id)).toEqual([DEMO.classicSp]);
    const count = await graph('GET', "/v1.0/servicePrincipals?$filter=startswith(displayName,'contoso')&$count=true", undefined, {
      ConsistencyLevel: 'eventual',
    });
    expect(((await count.json()) as { '@odata.count': number })['@odata.count']).toBe(2);
    const byApp = await graph('GET', `/v1.0/servicePrincipals(appId='${DEMO.firstPartyAppId}')`);
    expect(((await byApp.json()) as { appOwnerOrganizationId: string }).appOwnerOrganizationId).toBe(DEMO.firstPartyTenantId);
    const csa = (await (
      await graph('GET', `/v1.0/servicePrincipals/${DEMO.agents.expiring}?$select=id,customSecurityAttributes`)
    ).json()) as { customSecurityAttributes: { AgentLifecycle: { ExpiresOn: string } } };
    expect(new Date(csa.customSecurityAttributes.AgentLifecycle.ExpiresOn).getTime()).toBeGreaterThan(Date.now());
    const noCsa = (await (await graph('GET', `/v1.0/servicePrincipals/${DEMO.agents.expiring}`)).json()) as Record<string, unknown>;
    expect(noCsa).not.toHaveProperty('customSecurityAttributes');
    const badFilter = await graph('GET', "/v1.0/servicePrincipals?$filter=colour eq 'red'");
    expect(badFilter.status).toBe(400);
  });

  it('rejects a batch of 21 and answers a mixed batch per item', async () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: `/servicePrincipals/${DEMO.classicSp}` }));
    expect((await graph('POST', '/v1.0/$batch', { requests: many })).status).toBe(400);
    sim.addFault({ method: 'GET', path: `/v1.0/servicePrincipals/${DEMO.plainSp}$`, status: 429, retryAfter: 3, times: 1 });
    const res = await graph('POST', '/v1.0/$batch', {
      requests: [
        { id: '1', method: 'GET', url: `/servicePrincipals/${DEMO.classicSp}/owners` },
        { id: '2', method: 'GET', url: '/servicePrincipals/00000000-0000-4000-8000-000000000bad' },
        { id: '3', method: 'GET', url: '/servicePrincipals/00000000-0000-4000-8000-000000000bad/owners', dependsOn: ['2'] },
        { id: '4', method: 'PATCH', url: `/servicePrincipals/${DEMO.agents.orphan}/microsoft.graph.agentIdentity`, headers: { 'Content-Type': 'application/json' }, body: { accountEnabled: false } },
        { id: '5', method: 'GET', url: `/servicePrincipals/${DEMO.plainSp}` },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { responses: { id: string; status: number; headers: Record<string, string>; body?: unknown }[] };
    const byId = Object.fromEntries(body.responses.map((r) => [r.id, r]));
    expect(byId['1']?.status).toBe(200);
    expect(byId['2']?.status).toBe(404);
    expect(byId['3']?.status).toBe(424);
    expect(byId['4']?.status).toBe(204);
    expect(byId['5']?.status).toBe(429);
    expect(byId['5']?.headers['Retry-After']).toBe('3');
    expect(sim.state.get(DEMO.agents.orphan)?.accountEnabled).toBe(false);
    expect(sim.calls.filter((c) => c.batchId !== undefined)).toHaveLength(4);
  });

  it('applies a deterministic 429 fault with Retry-After, then succeeds', async () => {
    const fault = await admin('POST', '/_sim/faults', {
      method: 'PATCH',
      path: '/servicePrincipals/.*/microsoft\\.graph\\.agentIdentity$',
      status: 429,
      retryAfter: 2,
      times: 1,
    });
    expect(fault.status).toBe(201);
    const url = `/v1.0/servicePrincipals/${DEMO.agents.invoice}/microsoft.graph.agentIdentity`;
    const first = await graph('PATCH', url, { accountEnabled: false });
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(true);
    const second = await graph('PATCH', url, { accountEnabled: false });
    expect(second.status).toBe(204);
    const calls = (await (await admin('GET', '/_sim/calls?since=0')).json()) as { value: { status: number; path: string }[] };
    expect(calls.value.map((c) => c.status)).toEqual([429, 204]);
  });

  it('throttles Identity Protection to 1 request/s without Retry-After', async () => {
    await admin('PATCH', '/_sim/knobs', { identityProtectionThrottle: true });
    const first = await graph('POST', '/v1.0/identityProtection/riskyServicePrincipals/confirmCompromised', {
      servicePrincipalIds: [DEMO.classicSp],
    });
    expect(first.status).toBe(204);
    const second = await graph('POST', '/v1.0/identityProtection/riskyUsers/confirmCompromised', { userIds: [DEMO.human] });
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBeNull();
    expect(((await second.json()) as GraphErrorBody).error.code).toBe('TooManyRequests');
  });

  it('denies a call whose permission is not granted', async () => {
    sim.setKnobs({ grantedPermissions: ['Application.Read.All', 'Directory.Read.All'] });
    const res = await graph('POST', `/v1.0/users/${DEMO.agentUsers[0]}/revokeSignInSessions`);
    expect(res.status).toBe(403);
    const body = (await res.json()) as GraphErrorBody;
    expect(body.error.code).toBe('Authorization_RequestDenied');
    expect(body.error.message).toContain('User.RevokeSessions.All');
    expect((await graph('GET', `/v1.0/servicePrincipals/${DEMO.classicSp}`)).status).toBe(200);
  });

  it('revokes sessions by UPN and sends mail from the mailbox', async () => {
    const revoke = await graph('POST', `/v1.0/users/${DEMO.agentUserUpns[0]}/microsoft.graph.revokeSignInSessions`);
    expect(revoke.status).toBe(200);
    expect(((await revoke.json()) as { value: boolean }).value).toBe(true);
    expect(sim.state.get(DEMO.agentUsers[0])?.signInSessionsValidFromDateTime).toBeTypeOf('string');
    const mail = await graph('POST', `/v1.0/users/${DEMO.mailboxUpn}/sendMail`, {
      message: {
        subject: 'Approve',
        body: { contentType: 'HTML', content: '<p>x</p>' },
        toRecipients: [{ emailAddress: { address: DEMO.approverUpns[0] } }],
      },
      saveToSentItems: false,
    });
    expect(mail.status).toBe(202);
    const sent = (await (await admin('GET', '/_sim/mail')).json()) as { value: { to: string[] }[] };
    expect(sent.value[0]?.to).toEqual([DEMO.approverUpns[0]]);
    const member = await graph('POST', `/v1.0/users/${DEMO.approvers[2]}/checkMemberGroups`, { groupIds: [DEMO.approverGroup] });
    expect(((await member.json()) as { value: string[] }).value).toEqual([DEMO.approverGroup]);
  });

  it('deletes an agent identity so later reads are 404', async () => {
    const url = `/v1.0/servicePrincipals/${DEMO.agents.expired}/microsoft.graph.agentIdentity`;
    expect((await graph('DELETE', url)).status).toBe(204);
    expect((await graph('GET', url)).status).toBe(404);
    const obj = (await (await admin('GET', `/_sim/objects/${DEMO.agents.expired}`)).json()) as { deleted: boolean };
    expect(obj.deleted).toBe(true);
  });
});
