import { DefaultAzureCredential } from '@azure/identity';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO, type CallRecord, type Simulator } from '../../dev/simulator/start-simulator';
import { UpstreamError } from '../../shared/errors';
import { createGraph, type Graph } from '../../shared/graph/graph-client';
import { setRisk } from '../../shared/graph/identity-protection';
import { sendMail } from '../../shared/graph/mail';
import { setAccountEnabled, typedPath } from '../../shared/graph/service-principals';
import { revokeSignInSessions } from '../../shared/graph/users';
import { defaultRetryPolicy } from '../../shared/net/retry-policy';
import { rejectionOf, useSimulator } from '../helpers/use-simulator';

/**
 * Graph writes under "time-out after commit": the simulator performs the call, then drops or withholds the answer.
 * The writes are idempotent by nature, so the client retries them and the tenant ends with exactly one effect.
 * Real HTTP and the production credential path (App Service managed identity).
 */
describe('Graph calls that succeed and then lose their answer', () => {
  const fixture = useSimulator({ identity: true });
  let sim: Simulator;
  let graph: Graph;
  const agent = { id: DEMO.agents.invoice, kind: 'agentIdentity' as const };
  const agentPath = `/v1.0${typedPath(agent)}`;
  const graphCalls = (match: (c: CallRecord) => boolean) => sim.calls.filter((c) => c.service === 'graph' && match(c));

  beforeAll(() => {
    sim = fixture.sim;
    // Short attempts and no sleeping: a withheld answer costs a few hundred milliseconds, not ten seconds.
    graph = createGraph({
      credential: new DefaultAzureCredential(),
      endpoint: sim.url,
      retry: { ...defaultRetryPolicy, attemptTimeoutMs: 400, budgetMs: 3_000 },
      retryHooks: { sleep: () => Promise.resolve() },
    });
  });

  it('disables an agent once when the PATCH answer is dropped after commit', async () => {
    sim.addFault({ method: 'PATCH', path: 'microsoft\\.graph\\.agentIdentity$', drop: true, afterCommit: true, times: 1 });
    const result = await setAccountEnabled(graph, agent, false);
    expect(result.status).toBe(204);
    expect(graphCalls((c) => c.path === agentPath).map((c) => [c.status, c.fault])).toEqual([
      [0, 'drop-after-commit'],
      [204, undefined],
    ]);
    expect(sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(false);
  });

  it('re-enables (release) once when the PATCH answer never comes and the attempt times out', async () => {
    sim.state.get(DEMO.agents.invoice)!.accountEnabled = false;
    sim.addFault({ method: 'PATCH', path: 'microsoft\\.graph\\.agentIdentity$', hang: true, afterCommit: true, times: 1 });
    await setAccountEnabled(graph, agent, true);
    expect(graphCalls((c) => c.path === agentPath).map((c) => c.fault)).toEqual(['hang-after-commit', undefined]);
    expect(sim.state.get(DEMO.agents.invoice)?.accountEnabled).toBe(true);
  });

  it('confirms an agent compromised once when Identity Protection answers 500 after acting', async () => {
    sim.addFault({ method: 'POST', path: 'riskyAgents/(microsoft\\.graph\\.)?confirmCompromised$', status: 500, afterCommit: true, times: 1 });
    await setRisk(graph, 'riskyAgents', 'confirmCompromised', [DEMO.agents.invoice]);
    expect(graphCalls((c) => c.path.includes('confirmCompromised')).map((c) => c.status)).toEqual([500, 204]);
    expect(sim.state.get(DEMO.agents.invoice)?.riskState).toBe('confirmedCompromised');
  });

  it("revokes an agent user's sessions when the answer is dropped after commit, and the retry changes nothing more", async () => {
    sim.addFault({ method: 'POST', path: 'revokeSignInSessions$', drop: true, afterCommit: true, times: 1 });
    await revokeSignInSessions(graph, DEMO.agentUsers[0]);
    const revoked = sim.state.get(DEMO.agentUsers[0])?.signInSessionsValidFromDateTime;
    expect(typeof revoked).toBe('string');
    expect(graphCalls((c) => c.path.endsWith('revokeSignInSessions')).map((c) => c.status)).toEqual([0, 200]);
  });

  it('fails transient, never permanent, when Graph keeps answering 500, after the bounded attempts', async () => {
    sim.addFault({ method: 'PATCH', path: 'microsoft\\.graph\\.agentIdentity$', status: 500, times: 100 });
    const err = await rejectionOf(setAccountEnabled(graph, agent, false), UpstreamError);
    expect(err).toMatchObject({ httpStatus: 500, transient: true });
    expect(graphCalls((c) => c.path === agentPath)).toHaveLength(defaultRetryPolicy.maxAttempts);
  });

  it('times out a Graph read that never answers, as a transient failure', async () => {
    sim.addFault({ method: 'GET', path: `/servicePrincipals/${DEMO.classicSp}$`, hang: true, times: 100 });
    const err: unknown = await graph.call({ method: 'GET', path: `/servicePrincipals/${DEMO.classicSp}` }).catch((e: unknown) => e);
    expect(err).toMatchObject({ transient: true, upstreamCode: 'Timeout' });
    expect(graphCalls(() => true).length).toBeGreaterThanOrEqual(2);
  });

  it('does not send a mail twice when its answer is lost (sendMail is not idempotent)', async () => {
    sim.addFault({ method: 'POST', path: 'sendMail$', drop: true, afterCommit: true, times: 1 });
    const err: unknown = await sendMail(graph, DEMO.mailboxUpn, { to: [DEMO.approverUpns[0]], subject: 'Approve', text: 'link' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ transient: true });
    expect(sim.state.mail).toHaveLength(1);
    expect(graphCalls((c) => c.path.endsWith('sendMail'))).toHaveLength(1);
  });
});
