import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, startSimulator, type Simulator } from '../../dev/simulator/start-simulator';
import { simulatorToken } from '../helpers/simulator-token';

/** The simulator refuses what Graph's permission tables refuse, including the corrections to the docs. */
describe('simulator Graph permissions', () => {
  let sim: Simulator;
  let token = '';
  beforeAll(async () => {
    sim = await startSimulator();
    token = await simulatorToken(sim);
  });
  afterAll(async () => {
    await sim.stop();
  });

  const call = async (granted: string[], method: string, path: string, body?: unknown) => {
    sim.setKnobs({ grantedPermissions: granted });
    const res = await fetch(`${sim.url}/v1.0${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };

  it('needs User.Read.All and GroupMember.Read.All together for checkMemberGroups, or Directory.Read.All alone', async () => {
    const path = `/users/${DEMO.approvers[2]}/checkMemberGroups`;
    const body = { groupIds: [DEMO.approverGroup] };
    const half = await call(['GroupMember.Read.All'], 'POST', path, body);
    expect(half.status).toBe(403);
    expect(half.text).toContain('User.Read.All');
    expect((await call(['User.Read.All'], 'POST', path, body)).status).toBe(403);
    expect((await call(['User.Read.All', 'GroupMember.Read.All'], 'POST', path, body)).status).toBe(200);
    expect((await call(['Directory.Read.All'], 'POST', path, body)).status).toBe(200);
  });

  it('lists agent identity sponsors only with AgentIdentity.ReadWrite.All', async () => {
    const path = `/servicePrincipals/${DEMO.agents.invoice}/microsoft.graph.agentIdentity/sponsors`;
    expect((await call(['AgentIdentity.Read.All', 'Application.Read.All', 'Directory.Read.All'], 'GET', path)).status).toBe(403);
    expect((await call(['AgentIdentity.ReadWrite.All'], 'GET', path)).status).toBe(200);
  });

  it('lists blueprint principals only with their own permission, not Application.Read.All', async () => {
    const path = '/servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal';
    const broad = await call(['Application.Read.All', 'Directory.Read.All'], 'GET', path);
    expect(broad.status).toBe(403);
    expect(broad.text).toContain('AgentIdentityBlueprintPrincipal.Read.All');
    expect((await call(['AgentIdentityBlueprintPrincipal.Read.All'], 'GET', path)).status).toBe(200);
  });

  it('disables a classic service principal only with Application.ReadWrite.All (OwnedBy reaches owned ones only)', async () => {
    const path = `/servicePrincipals/${DEMO.classicSp}`;
    const owned = await call(['Application.ReadWrite.OwnedBy'], 'PATCH', path, { accountEnabled: false });
    expect(owned.status).toBe(403);
    expect((await call(['Application.ReadWrite.All'], 'PATCH', path, { accountEnabled: false })).status).toBe(204);
  });
});
