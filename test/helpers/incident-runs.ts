import { expect } from 'vitest';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { decideApproval, viewApproval } from '../../shared/approvals/approval-flow';
import { approvalLink } from '../../shared/approvals/approval-link';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { runCase } from '../../shared/plans/run-case';
import type { CaseMessage } from '../../shared/store/case-queue';
import { IdentityOwners } from '../../shared/store/identity-owners';
import { decisionBody, parseApprovalLink, PEOPLE, readApprovalForm } from './approval-form';
import { signedInAs } from './approval-sign-in';
import type { InProcessApp } from './in-process-app';
import { seedIncident } from './seed-incident';

/** The ownership row of `agent`: which case may act on it, in what state, whom it woke. */
export async function ownerOf(app: InProcessApp, agent: string) {
  return (await app.deps.owners.get(IdentityOwners.identityOf(agent)))?.value;
}

/** The statuses of a case's targets, in row order. */
export async function targetStatuses(app: InProcessApp, caseId: string): Promise<string[] | undefined> {
  return (await app.deps.cases.load(caseId))?.targets.map((t) => t.status);
}

/** Posts incident `n` naming `agent` (Sentinel holds it too) and returns the case's queue message, hint included. */
export async function postIncident(app: InProcessApp, n: number, agent: string): Promise<CaseMessage> {
  const intake = await acceptAlert(app.deps, parseAlert(seedIncident(app.sim, n, [{ id: agent, name: 'Agent' }]).trigger()), '{}', undefined);
  return { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) };
}

/** A later, genuine incident about the agent, someone having enabled it again: it must be contained, not wait. */
export async function containedAgain(app: InProcessApp, n: number, agent: string): Promise<void> {
  const sp = app.sim.state.get(agent);
  if (sp) {
    sp.accountEnabled = true;
  }
  app.clock.now += 1_000; // read after the containment: Graph's "enabled" is news
  const later = await postIncident(app, n, agent);
  await runCase(app.deps, app.deps.planners, later, app.inv);
  expect(await targetStatuses(app, later.caseId)).toEqual(['contained']);
  expect(app.sim.state.get(agent)?.accountEnabled).toBe(false);
}

/** A case about `agent` whose target is held for approval (REQUIRE_APPROVAL_IDENTITIES); returns it and its approval id. */
export async function heldCase(app: InProcessApp, n: number, agent: string): Promise<{ message: CaseMessage; approvalId: string }> {
  const config = app.deps.config;
  config.REQUIRE_APPROVAL_IDENTITIES = [agent];
  const message = await postIncident(app, n, agent);
  try {
    await runCase(app.deps, app.deps.planners, message, app.inv);
  } finally {
    config.REQUIRE_APPROVAL_IDENTITIES = [];
  }
  const held = (await app.deps.cases.load(message.caseId))?.targets[0];
  expect(held?.status).toBe('held');
  return { message, approvalId: held?.approvalId ?? '' };
}

/** Moves the app's clock to the approval's deadline (the moment the approvals timer may expire it); returns it. */
export async function atDeadline(app: InProcessApp, approvalId: string): Promise<number> {
  app.clock.now = (await app.approval(approvalId)).expiresAt;
  return app.clock.now;
}

/** The SOC lead decides the approval on its page, as a person would. */
export async function decideAsSocLead(app: InProcessApp, approvalId: string, decision: 'approve' | 'reject'): Promise<void> {
  const stored = await app.deps.approvals.get(approvalId, 'approval');
  const { id, token } = parseApprovalLink((stored && approvalLink(app.deps.config, stored.value)) ?? '');
  const socLead = await signedInAs(app, PEOPLE.socLead);
  const form = readApprovalForm((await viewApproval(app.deps, id, token, socLead)).body);
  await decideApproval(app.deps, id, decisionBody(form ?? { token: '', af: '' }, decision, decision === 'reject' ? 'not this one' : undefined), socLead);
}

/** The SOC lead decides; returns the queue message that applies the decision (taken off the queue, as the host would). */
export async function decideAndTakeMessage(app: InProcessApp, approvalId: string, decision: 'approve' | 'reject'): Promise<CaseMessage> {
  await decideAsSocLead(app, approvalId, decision);
  const message = (await app.queuedMessages()).find((m) => m['approvalId'] === approvalId) as CaseMessage | undefined;
  if (!message) {
    throw new Error(`the decision on ${approvalId} queued no run`);
  }
  await (await app.deps.storage.queue('containment')).clearMessages();
  return message;
}
