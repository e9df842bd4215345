import type { CaseBundle, StepRecord, TargetRecord } from '../store/case-model';
import { stepId } from '../store/case-model';
import { canDisable, setAccountEnabled } from '../graph/service-principals';
import { riskApiFor } from '../graph/identity-protection';
import { KIND_LABEL } from '../graph/identity-kind';
import { parseIncidentArmId } from '../sentinel/incident-arm-id';
import { reopenHeldStep, runStep, type StepContext, type StepSpec } from '../plans/step-runner';
import { closeOpenTarget } from '../alerts/accept-alert';
import { runCase, type Invocation, type RunCaseDeps } from '../containment/run-case';
import { deterministicGuid } from '../store/deterministic-guid';
import { ticketLabel } from '../tickets/ticket-label';
import { planContainment } from '../containment/plan-containment';
import { APPROVAL_ROW } from './request-approval';
import type { ApprovalEntity } from './approval-entity';
import { runApprovedLifecycleAction } from '../lifecycle/run-approved-lifecycle-action';

/**
 * Carries out a granted approval, from the queue:
 * - held containment: the target is released from its hold and the case runs again (guardrails pass it);
 * - release: the release plan re-enables the identity, dismisses its risk, notes the ticket and comments
 *   on the incident, each a persisted step so a retry repeats nothing;
 * - lifecycle deletion: handled by the lifecycle planner (the case runs again).
 */
export async function runApprovedAction(deps: RunCaseDeps, approvalId: string, inv: Invocation): Promise<void> {
  const stored = await deps.approvals.get(approvalId, APPROVAL_ROW);
  if (!stored || stored.value.status !== 'approved') {
    inv.log.warn(JSON.stringify({ approvalId, msg: 'approval not granted; nothing to run' }));
    return;
  }
  const approval = stored.value;
  const bundle = await deps.cases.load(approval.caseId);
  const target = bundle?.targets.find((t) => t.key === approval.targetKey);
  if (!bundle || !target) {
    inv.log.error(JSON.stringify({ approvalId, caseId: approval.caseId, msg: 'case or target of the approval is gone' }));
    return;
  }
  const ctx: StepContext = { store: deps.cases, caseId: approval.caseId, owner: inv.id, leaseMs: 60_000, now: deps.now };
  if (approval.kind === 'release') {
    await runRelease(deps, ctx, bundle, target, approval);
    return;
  }
  if (bundle.record.kind === 'expiry') {
    await runApprovedLifecycleAction(deps, approval, inv);
    return;
  }
  if (target.status === 'held' && target.approvalId === approval.id) {
    const approvers = approval.decisions.filter((d) => d.decision === 'approve').map((d) => d.name ?? d.by);
    await deps.cases.putTarget(approval.caseId, { ...target, status: 'pending', approvedBy: approvers.join(', '), reason: `Approved by ${approvers.join(', ')}` });
    for (const spec of planContainment(target)) {
      await reopenHeldStep(ctx, spec.stepId);
    }
    await deps.audit.write({ action: 'target.hold-released', scope: approval.caseId, actor: approval.decisions.at(-1)?.by ?? 'approver', targetId: target.objectId ?? target.key, result: 'ok', detail: approval.id });
  }
  await runCase(deps, approval.caseId, inv);
}

async function runRelease(deps: RunCaseDeps, ctx: StepContext, bundle: CaseBundle, target: TargetRecord, approval: ApprovalEntity): Promise<void> {
  const reportOnly = bundle.record.mode === 'report-only';
  const kind = target.kind ?? 'other';
  const name = `${KIND_LABEL[kind]} "${target.displayName ?? target.key}"`;
  const approvers = approval.decisions.filter((d) => d.decision === 'approve').map((d) => d.name ?? d.by).join(', ');
  const spec = (action: StepSpec['action'], description: string): StepSpec => ({ stepId: `${stepId(target.key, action)}|${approval.id}`, targetKey: target.key, action, description });
  const run = (s: StepSpec, exec: () => Promise<{ requestIds?: string[]; detail?: string }>) =>
    reportOnly ? runStep(ctx, s, () => Promise.resolve({ detail: 'report-only: would do' })) : runStep(ctx, s, exec);

  // Marked released before the identity is enabled again, so a drift check running meanwhile never takes
  // the approved re-enable for an attacker's and contains the identity again.
  const released: TargetRecord = { ...target, status: reportOnly ? target.status : 'released', reason: `Release approved by ${approvers}: ${approval.reason}` };
  if (!reportOnly) {
    await deps.cases.putTarget(bundle.record.caseId, released);
  }
  const writes: StepRecord[] = [];
  if (canDisable(kind) && target.objectId) {
    writes.push(
      await run(spec('enable', `Re-enable ${name} (release approved by ${approvers})`), async () => {
        const res = await setAccountEnabled(deps.graph, { id: target.objectId ?? '', kind }, true);
        return { requestIds: res.requestId ? [res.requestId] : [], detail: 'accountEnabled = true' };
      }),
    );
  }
  const api = riskApiFor(kind);
  if (api && target.objectId) {
    writes.push(
      await run(spec('dismiss-risk', `Dismiss the risk of ${name} in Entra ID Protection (${api}/dismiss)`), async () => {
        const requestId = await deps.risk.submit(api, 'dismiss', [target.objectId ?? '']);
        return { requestIds: requestId ? [requestId] : [], detail: 'risk dismissed' };
      }),
    );
  }
  const failed = writes.filter((w) => w.state === 'failed');
  const enableFailed = failed.some((w) => w.action === 'enable');
  const problems = failed.map((w) => `${w.description} FAILED (${w.errorCode ?? 'error'}${w.errorMessage ? `: ${w.errorMessage}` : ''})`).join('; ');
  const note = failed.length === 0
    ? `${reportOnly ? 'REPORT-ONLY, nothing changed: would release' : 'Released'} ${name}: approved by ${approvers}. Reason for release: ${approval.reason}`
    : `Release of ${name} approved by ${approvers}, but: ${problems}. Manual action needed. Reason for release: ${approval.reason}`;
  if (enableFailed) {
    // Still disabled: it stays contained, and a later incident or drift check treats it as such.
    await deps.cases.putTarget(bundle.record.caseId, { ...target, reason: note });
  } else if (!reportOnly) {
    await deps.cases.putTarget(bundle.record.caseId, { ...released, reason: note });
  }

  const ticket = bundle.record.ticket;
  const armId = bundle.record.incidentArmId ? parseIncidentArmId(bundle.record.incidentArmId) : undefined;
  await Promise.all([
    ticket && ticket.provider !== 'none'
      ? run(spec('ticket-note', `Note the release on ${ticketLabel(ticket)}`), async () => {
          await deps.tickets.addNote(ticket, note, `agent-responders:${bundle.record.caseId}:release:${approval.id}`);
          return { detail: 'ticket updated' };
        })
      : undefined,
    armId
      ? run(spec('comment', 'Comment the release on the Sentinel incident'), async () => {
          await deps.sentinel.putComment(armId, deterministicGuid(`${bundle.record.caseId}|release|${approval.id}`), note);
          return { detail: 'comment posted' };
        })
      : undefined,
  ]);
  if (!enableFailed && !reportOnly) {
    await closeOpenTarget(deps.keys, target.key);
  }
  await deps.audit.write({
    action: enableFailed ? 'target.release-failed' : 'target.released',
    scope: bundle.record.caseId,
    actor: approval.decisions.at(-1)?.by ?? 'approver',
    targetId: target.objectId ?? target.key,
    result: reportOnly ? 'would-do' : failed.length > 0 ? 'failed' : 'ok',
    detail: `${approval.id}: ${note}`,
  });
}
