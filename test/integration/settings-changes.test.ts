import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../shared/config';
import type { FaultRule } from '../../dev/simulator/sim-types';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { runCase } from '../../shared/plans/run-case';
import { IdentityOwners } from '../../shared/store/identity-owners';
import { decideApproval, viewApproval } from '../../shared/approvals/approval-flow';
import { approvalLink } from '../../shared/approvals/approval-link';
import { requestRelease } from '../../shared/approvals/request-release';
import { expireApprovals } from '../../shared/approvals/expire-approvals';
import { decisionBody, parseApprovalLink, PEOPLE, readApprovalForm } from '../helpers/approval-form';
import { signedInAs } from '../helpers/approval-sign-in';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { seedIncident } from '../helpers/seed-incident';

// An operator changes a setting while cases are in flight: each run reads the settings its process started with, so a
// case's runs (its retry, its approval's run) may see different ones.
let app: InProcessApp;

beforeAll(async () => {
  app = await startInProcessApp();
});
afterAll(async () => {
  await app?.stop();
});

const ownerOf = async (agent: string) => (await app.deps.owners.get(IdentityOwners.identityOf(agent)))?.value;
const targetOf = async (caseId: string, agent: string) => (await app.deps.cases.load(caseId))?.targets.find((t) => t.objectId === agent);

/** Posts the incident trigger through the intake and runs its case once; a transient failure is left to the retry. */
async function post(trigger: Record<string, unknown>): Promise<string> {
  const intake = await acceptAlert(app.deps, parseAlert(trigger), JSON.stringify(trigger), undefined);
  await runCase(app.deps, app.deps.planners, { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) }, app.inv).catch(() => undefined);
  return intake.caseId;
}

/** The agent's disable (or re-enable) as Graph's fault rules match it. */
const patchOf = (agent: string) => ({ method: 'PATCH', path: `${agent}/microsoft\\.graph\\.agentIdentity$` });

/** Runs `fn` while Graph keeps failing the calls `rule` matches (so the run ends to be retried), then lifts the fault. */
async function whileFailing<T>(rule: Omit<FaultRule, 'times'>, fn: () => Promise<T>): Promise<T> {
  app.sim.addFault({ ...rule, times: 50 });
  try {
    return await fn();
  } finally {
    app.sim.clearFaults();
  }
}

/** Runs `fn` with `change` applied to the app's settings, as a process restarted on them would. */
async function withSettings<T>(change: Partial<Config>, fn: () => Promise<T>): Promise<T> {
  const config: Config = app.deps.config;
  const before = { ...config };
  Object.assign(config, change);
  try {
    return await fn();
  } finally {
    Object.assign(config, before);
  }
}

/** The SOC lead approves the hold of the case's target naming `agent` (or `approvalId`), as the approval page lets them. */
async function approveHold(caseId: string, agent: string, approvalId?: string): Promise<void> {
  const stored = await app.deps.approvals.get(approvalId ?? (await targetOf(caseId, agent))?.approvalId ?? '', 'approval');
  const { id, token } = parseApprovalLink((stored && approvalLink(app.deps.config, stored.value)) ?? '');
  const socLead = await signedInAs(app, PEOPLE.socLead);
  const form = readApprovalForm((await viewApproval(app.deps, id, token, socLead)).body);
  await decideApproval(app.deps, id, decisionBody(form ?? { token: '', af: '' }, 'approve'), socLead);
}

describe('switching enforce to report-only while a case is in flight', () => {
  it('gives back the identity an enforce run claimed when the case ends in report-only, so a later incident contains it', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    // The enforce run claims the agent; Graph keeps failing its disable, so the run ends to be retried.
    const first = await whileFailing({ ...patchOf(agent), status: 503 }, () => post(seedIncident(app.sim, 61, [{ id: agent, name: 'Agent' }]).trigger()));
    expect(await ownerOf(agent)).toMatchObject({ caseId: first, state: 'acting' });
    // Its retry runs after the switch to report-only: it changes nothing and ends.
    await withSettings({ RESPONDER_MODE: 'report-only' }, () => runCase(app.deps, app.deps.planners, { caseId: first }, app.inv));
    expect((await targetOf(first, agent))?.status).toBe('would-contain');
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(true);
    // Back in enforce, a genuine incident about the agent must contain it, not wait for a case that will never act.
    const later = await post(seedIncident(app.sim, 62, [{ id: agent, name: 'Agent' }]).trigger());
    await app.drainQueue();
    expect((await targetOf(later, agent))?.status).toBe('contained');
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
    expect(await ownerOf(agent)).toMatchObject({ caseId: later, state: 'contained' });
  });

  it('says contained, and keeps the identity watched, when an enforce run disabled it before the switch', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    // The enforce run disables the agent; Identity Protection keeps failing the confirmation, so the run is retried.
    const first = await whileFailing({ method: 'POST', path: 'riskyAgents/(microsoft\\.graph\\.)?confirmCompromised$', status: 503 }, () => post(seedIncident(app.sim, 63, [{ id: agent, name: 'Agent' }]).trigger()));
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
    await withSettings({ RESPONDER_MODE: 'report-only' }, () => runCase(app.deps, app.deps.planners, { caseId: first }, app.inv));
    // The agent is disabled: the case must say so, and keep it (the drift check and later alerts go by its record).
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
    expect((await targetOf(first, agent))?.status).toBe('contained');
    expect(await ownerOf(agent)).toMatchObject({ caseId: first, state: 'contained' });
    const later = await post(seedIncident(app.sim, 64, [{ id: agent, name: 'Agent' }]).trigger());
    expect((await targetOf(later, agent))?.status).toBe('joined');
  });
});

describe('a setting changed between a hold and its approval', () => {
  it('gives back the identity of a hold a guardrail set since refuses once approved, so a later incident is not kept waiting', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const first = await withSettings({ REQUIRE_APPROVAL_IDENTITIES: [agent] }, () => post(seedIncident(app.sim, 65, [{ id: agent, name: 'Agent' }]).trigger()));
    expect((await targetOf(first, agent))?.status).toBe('held');
    expect(await ownerOf(agent)).toMatchObject({ caseId: first, state: 'held' });
    // The agent is protected after the hold: the approved hold must act on nothing, and keep nothing.
    await withSettings({ PROTECTED_IDENTITIES: [agent] }, async () => {
      await approveHold(first, agent);
      await app.drainQueue();
    });
    expect((await targetOf(first, agent))?.status).toBe('skipped');
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(true);
    expect((await ownerOf(agent))?.caseId).toBeUndefined();
    // Unprotected again, a genuine incident about the agent contains it.
    const later = await post(seedIncident(app.sim, 66, [{ id: agent, name: 'Agent' }]).trigger());
    await app.drainQueue();
    expect((await targetOf(later, agent))?.status).toBe('contained');
  });

  it('gives back the identity of a hold approved after a switch to report-only and a guardrail set since', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const first = await withSettings({ REQUIRE_APPROVAL_IDENTITIES: [agent] }, () => post(seedIncident(app.sim, 69, [{ id: agent, name: 'Agent' }]).trigger()));
    expect(await ownerOf(agent)).toMatchObject({ caseId: first, state: 'held' });
    // The operator reacts to a bad rule: report-only, and the agent protected; then the hold is approved.
    await withSettings({ RESPONDER_MODE: 'report-only', PROTECTED_IDENTITIES: [agent] }, async () => {
      await approveHold(first, agent);
      await app.drainQueue();
    });
    expect((await targetOf(first, agent))?.status).toBe('skipped');
    expect((await ownerOf(agent))?.caseId).toBeUndefined();
  });
});

describe('approvals turned off while a hold waits for its approval', () => {
  it('ends the hold nobody can approve any more at once, says why on its ticket, and gives the identity back', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const first = await withSettings({ REQUIRE_APPROVAL_IDENTITIES: [agent] }, () => post(seedIncident(app.sim, 71, [{ id: agent, name: 'Agent' }]).trigger()));
    const approvalId = (await targetOf(first, agent))?.approvalId ?? '';
    expect(await ownerOf(agent)).toMatchObject({ caseId: first, state: 'held' });
    // The operator removes the approval settings (no link can be checked, so nobody can decide); hours before the deadline.
    await withSettings({ PUBLIC_BASE_URL: undefined, APPROVAL_SIGNING_KEY: undefined }, async () => {
      await expireApprovals(app.deps);
      await app.drainQueue();
    });
    expect((await app.approval(approvalId)).status).toBe('expired');
    expect(await targetOf(first, agent)).toMatchObject({ status: 'expired', reason: expect.stringContaining('ended at') as unknown });
    expect((await targetOf(first, agent))?.reason).toContain('approvals are not configured');
    expect((await ownerOf(agent))?.caseId).toBeUndefined();
    const notes = app.sim.state.tickets.servicenow.flatMap((t) => t.journal.map((j) => String(j.value)));
    expect(notes.some((n) => n.startsWith('ESCALATION') && n.includes('approvals are not configured'))).toBe(true);
    // A later incident about the agent is not kept waiting for the hold.
    const later = await post(seedIncident(app.sim, 72, [{ id: agent, name: 'Agent' }]).trigger());
    await app.drainQueue();
    expect((await targetOf(later, agent))?.status).toBe('contained');
  });
});

describe('a guardrail set while an admitted target waits for its retry', () => {
  it('does not disable an agent listed in PROTECTED_IDENTITIES after its case was admitted and before its disable went through', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    // Admitted in enforce; Graph keeps failing the disable, so the run ends to be retried.
    const first = await whileFailing({ ...patchOf(agent), status: 503 }, () => post(seedIncident(app.sim, 67, [{ id: agent, name: 'Agent' }]).trigger()));
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(true);
    // The operator protects the agent (a critical workload the incident names wrongly); the retry must not act on it.
    await withSettings({ PROTECTED_IDENTITIES: [agent] }, () => runCase(app.deps, app.deps.planners, { caseId: first }, app.inv));
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(true);
    const target = await targetOf(first, agent);
    expect(target?.status).toBe('skipped');
    expect(target?.reason).toContain('PROTECTED_IDENTITIES');
    expect((await ownerOf(agent))?.caseId).toBeUndefined();
  });

  it('says the access may be cut already when it refuses on the retry a target an earlier run admitted: that disable went through, its answer lost', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    // Graph applies the disable and the answer never arrives, every time: the run cannot know, and ends to be retried.
    const first = await whileFailing({ ...patchOf(agent), drop: true, afterCommit: true }, () => post(seedIncident(app.sim, 71, [{ id: agent, name: 'Agent' }]).trigger()));
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
    // Protected before the retry: the retry must not act, and the case must not leave the human it hands the agent to
    // believing nothing was done.
    await withSettings({ PROTECTED_IDENTITIES: [agent] }, () => runCase(app.deps, app.deps.planners, { caseId: first }, app.inv));
    const target = await targetOf(first, agent);
    expect(target?.status).toBe('skipped');
    expect(target?.reason).toContain('PROTECTED_IDENTITIES');
    expect(target?.reason).toContain('may have cut its access already');
    // A target refused at its first admission was never acted on, and says only that.
    const [other = ''] = await generateAgents(app, { agents: 1 });
    const second = await withSettings({ PROTECTED_IDENTITIES: [other] }, () => post(seedIncident(app.sim, 72, [{ id: other, name: 'Agent' }]).trigger()));
    expect((await targetOf(second, other))?.status).toBe('skipped');
    expect((await targetOf(second, other))?.reason).not.toContain('may have cut');
  });

  it('holds for approval, instead of disabling, an agent listed in REQUIRE_APPROVAL_IDENTITIES after its case was admitted', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const first = await whileFailing({ ...patchOf(agent), status: 503 }, () => post(seedIncident(app.sim, 68, [{ id: agent, name: 'Agent' }]).trigger()));
    await withSettings({ REQUIRE_APPROVAL_IDENTITIES: [agent] }, () => runCase(app.deps, app.deps.planners, { caseId: first }, app.inv));
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(true);
    const target = await targetOf(first, agent);
    expect(target?.status).toBe('held');
    expect((await app.deps.approvals.get(target?.approvalId ?? '', 'approval'))?.value.status).toBe('pending');
    expect(await ownerOf(agent)).toMatchObject({ caseId: first, state: 'held' });
  });

  it('does not re-enable, on the retry of an approved release, an agent listed in PROTECTED_IDENTITIES since, and its case keeps it contained', async () => {
    const [agent = ''] = await generateAgents(app, { agents: 1 });
    const first = await post(seedIncident(app.sim, 70, [{ id: agent, name: 'Agent' }]).trigger());
    const asked = await requestRelease(app.deps, first, { targetId: agent, reason: 'false positive' }, await signedInAs(app, PEOPLE.onCall));
    await approveHold(first, agent, asked.approvalId);
    // The approved release runs; Graph keeps failing the re-enable, so the run ends to be retried.
    await whileFailing({ ...patchOf(agent), status: 503 }, () => app.drainQueue().catch(() => undefined));
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
    await withSettings({ PROTECTED_IDENTITIES: [agent] }, () => runCase(app.deps, app.deps.planners, { caseId: first }, app.inv));
    expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
    const target = await targetOf(first, agent);
    expect(target?.status).toBe('contained');
    expect(target?.reason).toContain('PROTECTED_IDENTITIES');
    expect(await ownerOf(agent)).toMatchObject({ caseId: first, state: 'contained' });
    expect((await app.deps.cases.load(first))?.record.status).toBe('done');
  });
});
