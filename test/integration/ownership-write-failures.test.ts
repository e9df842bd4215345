import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageGate } from '../../dev/storage-proxy';
import { requestRelease } from '../../shared/approvals/request-release';
import { runCase } from '../../shared/plans/run-case';
import { failCase } from '../../shared/plans/fail-case';
import { PEOPLE } from '../helpers/approval-form';
import { signedInAs } from '../helpers/approval-sign-in';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { containedAgain, decideAndTakeMessage, heldCase, ownerOf, postIncident, targetStatuses } from '../helpers/incident-runs';

// Storage fails the ownership write that follows a target's outcome (the identity kept contained, or given back): the
// run fails and is retried. The retry must make that write, or the identity stays with a finished case and every later
// incident about it waits for that case for ever.
let app: InProcessApp;

beforeAll(async () => {
  app = await startInProcessApp({ throughStorageProxy: true });
});
afterAll(async () => {
  await app?.stop();
});


/** Fails every change to a stored ownership row once `when` holds (the agent as its plan leaves it). */
const failOwnerWritesWhen = (when: () => boolean): StorageGate => (req) =>
  Promise.resolve(req.service === 'table' && req.method === 'PUT' && req.shape === '/owners(…)' && when() ? 'drop' : 'forward');

describe('an ownership write after a target ended fails, and the run is retried', () => {
  it('the retry keeps the contained identity with its case as contained, so a later incident about it acts', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const message = await postIncident(app, 80, agent);
    const disabled = () => app.sim.state.get(agent)?.accountEnabled === false;
    await expect(app.withStorageGate(failOwnerWritesWhen(disabled), () => runCase(app.deps, app.deps.planners, message, app.inv))).rejects.toThrow();
    expect(disabled()).toBe(true);

    await runCase(app.deps, app.deps.planners, message, app.inv);
    expect(await targetStatuses(app, message.caseId)).toEqual(['contained']);
    expect(await ownerOf(app, agent)).toMatchObject({ caseId: message.caseId, state: 'contained' });
    await containedAgain(app, 81, agent);
  });

  it('the retry of an approved release gives the identity back, so a later incident about it acts', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const message = await postIncident(app, 82, agent);
    await runCase(app.deps, app.deps.planners, message, app.inv);
    const asked = await requestRelease(app.deps, message.caseId, { targetId: agent, reason: 'false positive' }, await signedInAs(app, PEOPLE.onCall));
    const approved = await decideAndTakeMessage(app, asked.approvalId ?? '', 'approve');
    const enabled = () => app.sim.state.get(agent)?.accountEnabled === true;
    await expect(app.withStorageGate(failOwnerWritesWhen(enabled), () => runCase(app.deps, app.deps.planners, approved, app.inv))).rejects.toThrow();
    expect(enabled()).toBe(true);

    await runCase(app.deps, app.deps.planners, approved, app.inv);
    expect(await targetStatuses(app, message.caseId)).toEqual(['released']);
    expect((await ownerOf(app, agent))?.caseId).toBeUndefined();
    await containedAgain(app, 83, agent);
  });

  it('the retry of a rejected hold gives the identity back, so a later incident about it acts', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const { message, approvalId } = await heldCase(app, 84, agent);
    const rejected = await decideAndTakeMessage(app, approvalId, 'reject');
    await expect(app.withStorageGate(failOwnerWritesWhen(() => true), () => runCase(app.deps, app.deps.planners, rejected, app.inv))).rejects.toThrow();

    await runCase(app.deps, app.deps.planners, rejected, app.inv);
    expect(await targetStatuses(app, message.caseId)).toEqual(['rejected']);
    expect((await ownerOf(app, agent))?.caseId).toBeUndefined();
    await containedAgain(app, 85, agent);
  });
});

describe('the poison handler fails a case, and storage fails its ownership write', () => {
  it('its retry gives the identity of the failed target back, so a later incident about it acts', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const message = await postIncident(app, 86, agent);
    // Graph keeps failing the disable: the run ends with the target admitted, its identity claimed, to be retried.
    app.sim.addFault({ method: 'PATCH', path: `${agent}/microsoft\\.graph\\.agentIdentity$`, status: 503, times: 50 });
    try {
      await expect(runCase(app.deps, app.deps.planners, message, app.inv)).rejects.toThrow();
    } finally {
      app.sim.clearFaults();
    }
    expect(await ownerOf(app, agent)).toMatchObject({ caseId: message.caseId, state: 'acting' });
    // The host gave up on the message; the poison handler's first try meets storage failing ownership writes.
    await expect(app.withStorageGate(failOwnerWritesWhen(() => true), () => failCase(app.deps, message, app.inv))).rejects.toThrow();

    await failCase(app.deps, message, app.inv);
    expect(await targetStatuses(app, message.caseId)).toEqual(['failed']);
    expect((await ownerOf(app, agent))?.caseId).toBeUndefined();
    await containedAgain(app, 87, agent);
  });
});

describe('the queue fails the wake-up of a case waiting for the identity', () => {
  const endings = [
    { ending: 'gives the identity back (its disable refused for good)', graph: 403, first: 'failed', second: 'contained', n: 88 },
    { ending: 'contains the identity', graph: undefined, first: 'contained', second: 'joined', n: 90 },
  ] as const;
  for (const { ending, graph, first: firstEnds, second: secondEnds, n } of endings) {
    it(`the retry of the run that ${ending} wakes it again, without waiting for recovery`, async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const patch = { method: 'PATCH', path: `${agent}/microsoft\\.graph\\.agentIdentity$` };
    // The first case acts on the agent; Graph keeps failing its disable, so it is retried with the identity claimed.
    const first = await postIncident(app, n, agent);
    app.sim.addFault({ ...patch, status: 503, times: 50 });
    await expect(runCase(app.deps, app.deps.planners, first, app.inv)).rejects.toThrow();
    app.sim.clearFaults();
    // A second incident about the agent waits for it.
    const second = await postIncident(app, n + 1, agent);
    await runCase(app.deps, app.deps.planners, second, app.inv);
    expect(await targetStatuses(app, second.caseId)).toEqual(['waiting']);
    await app.drainQueue();

    // The first case's retry ends the target and wakes the second case, but the queue drops the wake-up.
    if (graph) {
      app.sim.addFault({ ...patch, status: graph, times: 50 });
    }
    const dropWakeUps: StorageGate = (req) => Promise.resolve(req.service === 'queue' && req.method === 'POST' ? 'drop' : 'forward');
    await expect(app.withStorageGate(dropWakeUps, () => runCase(app.deps, app.deps.planners, first, app.inv))).rejects.toThrow();
    app.sim.clearFaults();

    // Its next retry, as recovery queues it (no hint: no early claim to give back and wake from).
    await runCase(app.deps, app.deps.planners, { caseId: first.caseId }, app.inv);
    expect(await targetStatuses(app, first.caseId)).toEqual([firstEnds]);
    expect((await app.queuedMessages()).map((m) => m['caseId'])).toContain(second.caseId);
    await app.drainQueue();
    expect(await targetStatuses(app, second.caseId)).toEqual([secondEnds]);
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
    });
  }
});
