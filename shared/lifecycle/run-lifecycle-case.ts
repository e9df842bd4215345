import { createHash } from 'node:crypto';
import { requesterOf } from '../approvals/requester-of';
import { approvalLink, requestApproval } from '../approvals/request-approval';
import { describeCase } from '../containment/case-report';
import { checkBlastRadius, checkGuardrails, type GuardrailVerdict } from '../containment/guardrails';
import type { Invocation, RunCaseDeps } from '../containment/run-case';
import { ticketLabel } from '../tickets/ticket-label';
import { deleteIdentity } from '../graph/identity-deletion';
import { KIND_LABEL } from '../graph/identity-kind';
import { sendMail } from '../graph/mail';
import { setAccountEnabled } from '../graph/service-principals';
import { listSponsorsAndOwners } from '../graph/sponsors';
import { isTerminal, isTransient, runStep, settleStep, type StepContext, type StepResult, type StepSpec } from '../plans/step-runner';
import { stepId, type CaseBundle, type CaseRecord, type StepRecord, type TargetRecord } from '../store/case-model';
import { AddressBook } from './address-book';
import { lifecycleCaseInfo, type LifecyclePlan } from './lifecycle-case';
import { planLifecycle } from './plan-lifecycle';
import { caseStatus } from '../plans/case-status';

const LEASE_MS = 60_000;

/**
 * The responder for a lifecycle case (kind `expiry`), from the `containment` queue: guardrails, then the
 * lifecycle plan of its target (disable and notify, or a deletion held for approval), then one ticket. Every
 * step goes through the step runner, so a redelivered message or a crash resumes without repeating a side
 * effect; transient failures are rethrown after the other steps ran, so the message is retried.
 */
export async function runLifecycleCase(deps: RunCaseDeps, caseId: string, inv: Invocation): Promise<CaseRecord | undefined> {
  let bundle = await deps.cases.load(caseId);
  if (!bundle) {
    inv.log.warn(JSON.stringify({ caseId, msg: 'case not found; message dropped' }));
    return undefined;
  }
  const record = bundle.record;
  if (record.status === 'failed' || record.status === 'suspicious') {
    return record;
  }
  const ctx: StepContext = { store: deps.cases, caseId, owner: inv.id, leaseMs: LEASE_MS, now: deps.now };
  const reportOnly = record.mode === 'report-only';
  const { plan } = lifecycleCaseInfo(record);
  if (record.status === 'received') {
    await deps.cases.updateCase(caseId, (r) => {
      r.status = 'running';
    });
  }
  const responderId = await deps.responderId().catch(() => undefined);
  const transient: unknown[] = [];
  for (const target of bundle.targets) {
    const specs = planLifecycle(record, target);
    if (target.status === 'pending' && target.admittedAt === undefined) {
      await admit(deps, ctx, record, target, specs, plan, responderId);
    }
    if (target.status === 'pending' && target.admittedAt !== undefined) {
      await execute(deps, ctx, record, target, specs, reportOnly).catch((err: unknown) => {
        if (!isTransient(err)) {
          throw err;
        }
        transient.push(err);
      });
    }
  }
  if (transient.length > 0) {
    throw transient[0];
  }

  bundle = (await deps.cases.load(caseId)) ?? bundle;
  await settleOutcomes(deps, bundle, plan, reportOnly);
  bundle = (await deps.cases.load(caseId)) ?? bundle;
  await report(deps, ctx, bundle, plan, reportOnly);
  const final = await deps.cases.updateCase(caseId, (r) => {
    r.status = caseStatus(bundle);
  });
  inv.log.info(JSON.stringify({ caseId, kind: 'expiry', plan, status: final.status, targets: bundle.targets.map((t) => ({ key: t.key, status: t.status })) }));
  return final;
}

/** Guardrails before any write; a deletion, and a blueprint principal's disable, wait for an approver. */
async function admit(deps: RunCaseDeps, ctx: StepContext, record: CaseRecord, target: TargetRecord, specs: StepSpec[], plan: LifecyclePlan, responderId: string | undefined): Promise<void> {
  const approved = target.approvedBy !== undefined;
  let verdict: GuardrailVerdict = checkGuardrails({ target, responderId, config: deps.config, direct: false, approved });
  if (verdict.action === 'run' && plan === 'delete' && !approved) {
    verdict = { action: 'hold', reason: 'Deleting an agent always waits for approval (it stays restorable for 30 days).' };
  }
  // The same hourly limit as containments: a wrong tag or attribute must not disable the whole fleet at once.
  const overLimit = verdict.action === 'run' && plan === 'expire' && !approved && record.mode === 'enforce' ? await checkBlastRadius(deps, record.caseId, target) : undefined;
  if (overLimit !== undefined) {
    verdict = { action: 'hold', reason: overLimit };
  }
  if (verdict.action === 'skip') {
    Object.assign(target, { status: 'skipped', reason: verdict.reason });
    for (const spec of specs) {
      await settleStep(ctx, spec, 'skipped', verdict.reason);
    }
  } else if (verdict.action === 'hold') {
    const { approval } = await requestApproval(deps, {
      kind: plan === 'delete' ? 'lifecycle-delete' : 'held-containment',
      caseId: record.caseId,
      target,
      reason: `${verdict.reason} ${record.title}`,
      requestedBy: await requesterOf(deps, undefined),
      requestedByName: 'agent responders (lifecycle sweep)',
    });
    Object.assign(target, { status: 'held', reason: verdict.reason, approvalId: approval.id });
    const first = specs[0];
    if (first) {
      await settleStep(ctx, first, 'held', verdict.reason, { approvalId: approval.id });
    }
  } else {
    target.admittedAt = new Date(deps.now()).toISOString();
  }
  await deps.cases.putTarget(record.caseId, target);
  await deps.audit.write({ action: `target.${target.status === 'pending' ? 'admitted' : target.status}`, scope: record.caseId, actor: 'system', targetId: target.objectId ?? target.key, result: 'info', detail: target.reason ?? 'passed guardrails' });
}

/** Runs a write step, or records it as "would do" in report-only mode. */
function runWrite(ctx: StepContext, spec: StepSpec, reportOnly: boolean, exec: () => Promise<StepResult>): Promise<StepRecord> {
  return reportOnly ? settleStep(ctx, spec, 'would-do', 'report-only: not executed') : runStep(ctx, spec, exec);
}

async function execute(deps: RunCaseDeps, ctx: StepContext, record: CaseRecord, target: TargetRecord, specs: StepSpec[], reportOnly: boolean): Promise<void> {
  const obj = { id: target.objectId ?? '', kind: target.kind ?? 'other' };
  let disableFailed = false;
  for (const spec of specs) {
    if (spec.action === 'disable') {
      const step = await runWrite(ctx, spec, reportOnly, async () => {
        const res = await setAccountEnabled(deps.graph, obj, false);
        return { requestIds: res.requestId ? [res.requestId] : [], detail: 'accountEnabled = false acknowledged by Graph' };
      });
      disableFailed = step.state === 'failed';
      if (step.state === 'done' && !target.accessCutAt) {
        target.accessCutAt = step.endedAt ?? new Date(deps.now()).toISOString();
        await deps.cases.putTarget(record.caseId, target);
      }
    } else if (spec.action === 'notify-sponsors') {
      const sender = deps.config.APPROVAL_MAIL_SENDER;
      if (disableFailed) {
        await settleStep(ctx, spec, 'skipped', 'the disable failed: nothing to announce');
      } else if (!sender) {
        await settleStep(ctx, spec, 'skipped', 'APPROVAL_MAIL_SENDER is not set: nobody was mailed');
      } else {
        await runWrite(ctx, spec, reportOnly, () => notifyDisabled(deps, sender, record, target));
      }
    } else if (spec.action === 'delete') {
      await runWrite(ctx, spec, reportOnly, async () => {
        const res = await deleteIdentity(deps.graph, obj);
        return { requestIds: res.requestId ? [res.requestId] : [], detail: 'deleted; restorable from deleted items for 30 days' };
      });
    }
  }
}

/** Mails the agent's sponsors and owners that it was disabled and why. */
async function notifyDisabled(deps: RunCaseDeps, sender: string, record: CaseRecord, target: TargetRecord): Promise<StepResult> {
  const { byId } = await listSponsorsAndOwners(deps.graph, [{ id: target.objectId ?? '', kind: target.kind ?? 'other' }]);
  const accountable = byId.get(target.objectId ?? '');
  const ids = [...(accountable?.sponsors ?? []), ...(accountable?.owners ?? [])];
  const book = new AddressBook(deps.graph);
  await book.load(ids);
  const to = book.addresses(ids);
  if (to.length === 0) {
    return { detail: 'no sponsor or owner with a mailbox' };
  }
  const name = `${KIND_LABEL[target.kind ?? 'other']} "${target.displayName ?? target.objectId ?? target.key}"`;
  const { endDate } = lifecycleCaseInfo(record);
  const statusUrl = deps.config.PUBLIC_BASE_URL ? `${deps.config.PUBLIC_BASE_URL}/api/cases/${record.caseId}` : undefined;
  const why =
    record.source === 'drift'
      ? 'it was re-enabled outside the release process after its end of lifecycle, so it was disabled again'
      : `its end of lifecycle (${endDate ?? 'its end date'}) has passed`;
  await sendMail(deps.graph, sender, {
    to,
    subject: `[Agent responders] ${target.displayName ?? target.objectId ?? target.key} was disabled: end of lifecycle`,
    text: [
      `The ${name} (${target.objectId ?? target.key}), which you sponsor or own, was disabled: ${why}.`,
      '',
      'If it must keep running, move its end date and ask for a release of the case.',
      ...(statusUrl ? [`Case: ${statusUrl}`] : [`Case: ${record.caseId}`]),
    ].join('\n'),
  });
  return { detail: `mailed ${to.length} sponsor(s)/owner(s)` };
}

function stepsOf(bundle: CaseBundle, target: TargetRecord): StepRecord[] {
  return bundle.steps.filter((s) => s.targetKey === target.key);
}

/** Target outcomes from their steps, once every step finished. */
async function settleOutcomes(deps: RunCaseDeps, bundle: CaseBundle, plan: LifecyclePlan, reportOnly: boolean): Promise<void> {
  for (const t of bundle.targets) {
    if (t.status !== 'pending' || t.admittedAt === undefined) {
      continue;
    }
    const steps = stepsOf(bundle, t);
    if (steps.length === 0 || steps.some((s) => !isTerminal(s.state))) {
      continue;
    }
    const failed = steps.find((s) => s.state === 'failed');
    let outcome: { status: TargetRecord['status']; reason?: string };
    if (failed) {
      outcome = { status: 'failed', reason: `${failed.action} failed: ${failed.errorCode ?? ''} ${failed.errorMessage ?? ''}`.trim() };
    } else if (reportOnly) {
      outcome = { status: 'would-contain' };
    } else if (plan === 'delete') {
      // Gone from the directory (restorable for 30 days): nothing left for the drift check to watch.
      outcome = { status: 'not-found', reason: `Deleted at the end of its lifecycle (approved by ${t.approvedBy ?? 'an approver'}); restorable from deleted items for 30 days.` };
    } else {
      outcome = { status: 'contained', reason: 'Disabled at the end of its lifecycle.' };
    }
    Object.assign(t, outcome);
    await deps.cases.putTarget(bundle.record.caseId, t);
    await deps.audit.write({ action: `target.${t.status}`, scope: bundle.record.caseId, actor: 'system', targetId: t.objectId ?? t.key, result: outcome.status === 'failed' ? 'failed' : reportOnly ? 'would-do' : 'ok', detail: t.reason ?? '' });
  }
}


function ticketTitle(bundle: CaseBundle, plan: LifecyclePlan, reportOnly: boolean): string {
  const names = bundle.targets.map((t) => t.displayName ?? t.objectId ?? t.key).join(', ');
  if (bundle.targets.some((t) => t.status === 'held')) {
    return `[Agent responders] approval needed to ${plan === 'delete' ? 'delete' : 'disable'} an expired agent: ${names}`;
  }
  if (reportOnly) {
    return `[Agent responders] would ${plan === 'delete' ? 'delete' : 'disable'} an expired agent: ${names}`;
  }
  if (plan === 'delete') {
    return `[Agent responders] expired agent deleted: ${names}`;
  }
  return bundle.record.source === 'drift'
    ? `[Agent responders] expired agent re-enabled outside the release process, disabled again: ${names}`
    : `[Agent responders] end of lifecycle, agent disabled: ${names}`;
}

/** One ticket per case; a note on it for each later change of outcome (an approval granted, a deletion done). */
async function report(deps: RunCaseDeps, ctx: StepContext, bundle: CaseBundle, plan: LifecyclePlan, reportOnly: boolean): Promise<void> {
  const caseId = bundle.record.caseId;
  const links = new Map<string, string>();
  for (const t of bundle.targets) {
    const stored = t.approvalId ? await deps.approvals.get(t.approvalId, 'approval') : undefined;
    const link = stored ? approvalLink(deps.config, stored.value) : undefined;
    if (t.approvalId && link) {
      links.set(t.approvalId, link);
    }
  }
  const statusUrl = deps.config.PUBLIC_BASE_URL ? `${deps.config.PUBLIC_BASE_URL}/api/cases/${caseId}` : undefined;
  const { text } = describeCase(bundle, { ...(statusUrl ? { statusUrl } : {}), links });
  const title = ticketTitle(bundle, plan, reportOnly);
  const outcome = createHash('sha256')
    .update(bundle.targets.map((t) => `${t.key}=${t.status}`).sort().join(','))
    .digest('hex')
    .slice(0, 12);
  const first = !bundle.steps.some((s) => s.stepId === stepId('case', 'ticket'));
  const spec: StepSpec = first
    ? { stepId: stepId('case', 'ticket'), targetKey: 'case', action: 'ticket', description: `Open a ${deps.tickets.name} ticket for the case` }
    : { stepId: `case|ticket-note|${outcome}`, targetKey: 'case', action: 'ticket-note', description: `Add the new outcome to the ${deps.tickets.name} ticket` };
  const step = reportOnly
    ? await settleStep(ctx, spec, 'would-do', `report-only: ${title}`)
    : await runStep(ctx, spec, async () => {
        if (first) {
          const ref = await deps.tickets.open({ key: `agent-responders:${caseId}`, title, text, severity: bundle.record.severity, caseId });
          await deps.cases.updateCase(caseId, (r) => {
            r.ticket = ref;
          });
          return { detail: ticketLabel(ref) };
        }
        const ref = bundle.record.ticket;
        if (!ref) {
          return { detail: 'no ticket to update' };
        }
        await deps.tickets.addNote(ref, `${title}\n\n${text}`, `agent-responders:${caseId}:${outcome}`);
        return { detail: `note added to ${ticketLabel(ref)}` };
      });
  await deps.audit.write({ action: `case.${step.action}`, scope: caseId, actor: 'system', result: step.state === 'done' ? 'ok' : step.state === 'would-do' ? 'would-do' : step.state === 'failed' ? 'failed' : 'info', detail: step.detail ?? step.errorMessage ?? '' });
}
