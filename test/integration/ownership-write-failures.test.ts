import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageGate } from '../../dev/storage-proxy';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { requestRelease } from '../../shared/approvals/request-release';
import { decideApproval, viewApproval } from '../../shared/approvals/approval-flow';
import { approvalLink } from '../../shared/approvals/request-approval';
import type { CaseMessage } from '../../shared/store/case-queue';
import { runCase } from '../../shared/plans/run-case';
import { IdentityOwners } from '../../shared/store/identity-owners';
import { decisionBody, parseApprovalLink, PEOPLE, readApprovalForm } from '../helpers/approval-form';
import { signedInAs } from '../helpers/approval-sign-in';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { seedIncident } from '../helpers/seed-incident';

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

const ownerOf = async (agent: string) => (await app.deps.owners.get(IdentityOwners.identityOf(agent)))?.value;
const statusOf = async (caseId: string) => (await app.deps.cases.load(caseId))?.targets.map((t) => t.status);

/** Fails every change to a stored ownership row once `when` holds (the agent as its plan leaves it). */
const failOwnerWritesOnce = (when: () => boolean): StorageGate => (req) =>
  Promise.resolve(req.service === 'table' && req.method === 'PUT' && req.shape === '/owners(…)' && when() ? 'drop' : 'forward');

/** Posts an incident naming `agent` and returns the case's queue message (its hint: the run claims early). */
async function post(n: number, agent: string): Promise<CaseMessage> {
  const intake = await acceptAlert(app.deps, parseAlert(seedIncident(app.sim, n, [{ id: agent, name: 'Agent' }]).trigger()), '{}', undefined);
  return { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) };
}

/** A later, genuine incident about the agent, someone having enabled it again: it must be contained, not wait. */
async function containedAgain(n: number, agent: string): Promise<void> {
  const sp = app.sim.state.get(agent);
  if (sp) {
    sp.accountEnabled = true;
  }
  const later = await post(n, agent);
  await runCase(app.deps, app.deps.planners, later, app.inv);
  expect(await statusOf(later.caseId)).toEqual(['contained']);
  expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
}

describe('an ownership write after a target ended fails, and the run is retried', () => {
  it('the retry keeps the contained identity with its case as contained, so a later incident about it acts', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const message = await post(80, agent);
    const disabled = () => app.sim.state.get(agent)?.accountEnabled === false;
    await expect(app.withStorageGate(failOwnerWritesOnce(disabled), () => runCase(app.deps, app.deps.planners, message, app.inv))).rejects.toThrow();
    expect(disabled()).toBe(true);

    await runCase(app.deps, app.deps.planners, message, app.inv);
    expect(await statusOf(message.caseId)).toEqual(['contained']);
    expect(await ownerOf(agent)).toMatchObject({ caseId: message.caseId, state: 'contained' });
    await containedAgain(81, agent);
  });

  it('the retry of an approved release gives the identity back, so a later incident about it acts', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const message = await post(82, agent);
    await runCase(app.deps, app.deps.planners, message, app.inv);
    const asked = await requestRelease(app.deps, message.caseId, { targetId: agent, reason: 'false positive' }, await signedInAs(app, PEOPLE.onCall));
    const stored = await app.deps.approvals.get(asked.approvalId ?? '', 'approval');
    const { id, token } = parseApprovalLink((stored && approvalLink(app.deps.config, stored.value)) ?? '');
    const socLead = await signedInAs(app, PEOPLE.socLead);
    const form = readApprovalForm((await viewApproval(app.deps, id, token, socLead)).body);
    await decideApproval(app.deps, id, decisionBody(form ?? { token: '', af: '' }, 'approve'), socLead);
    const [approved] = await app.queuedMessages();
    expect(approved).toMatchObject({ caseId: message.caseId });
    const enabled = () => app.sim.state.get(agent)?.accountEnabled === true;
    await expect(app.withStorageGate(failOwnerWritesOnce(enabled), () => runCase(app.deps, app.deps.planners, approved as CaseMessage, app.inv))).rejects.toThrow();
    expect(enabled()).toBe(true);

    await runCase(app.deps, app.deps.planners, approved as CaseMessage, app.inv);
    expect(await statusOf(message.caseId)).toEqual(['released']);
    expect((await ownerOf(agent))?.caseId).toBeUndefined();
    await containedAgain(83, agent);
  });
});
