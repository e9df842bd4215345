import type { ApprovalEntity } from '../approvals/approval-entity';
import type { Invocation, RunCaseDeps } from '../containment/run-case';
import { reopenHeldStep, type StepContext } from '../plans/step-runner';
import { planLifecycle } from './plan-lifecycle';
import { runLifecycleCase } from './run-lifecycle-case';

/**
 * Carries out a granted approval on a lifecycle case (a deletion past the grace period, or the disable of a
 * blueprint principal): the target leaves its hold, its held step is reopened, and the case runs again, so
 * the approved step runs exactly once through the step runner.
 */
export async function runApprovedLifecycleAction(deps: RunCaseDeps, approval: ApprovalEntity, inv: Invocation): Promise<void> {
  const bundle = await deps.cases.load(approval.caseId);
  const target = bundle?.targets.find((t) => t.key === approval.targetKey);
  if (!bundle || !target) {
    inv.log.error(JSON.stringify({ approvalId: approval.id, caseId: approval.caseId, msg: 'case or target of the approval is gone' }));
    return;
  }
  if (target.status === 'held' && target.approvalId === approval.id) {
    const approvers = approval.decisions.filter((d) => d.decision === 'approve').map((d) => d.name ?? d.by);
    const ctx: StepContext = { store: deps.cases, caseId: approval.caseId, owner: inv.id, leaseMs: 60_000, now: deps.now };
    await deps.cases.putTarget(approval.caseId, { ...target, status: 'pending', approvedBy: approvers.join(', '), reason: `Approved by ${approvers.join(', ')}` });
    for (const spec of planLifecycle(bundle.record, target)) {
      await reopenHeldStep(ctx, spec.stepId);
    }
    await deps.audit.write({ action: 'target.hold-released', scope: approval.caseId, actor: approval.decisions.at(-1)?.by ?? 'approver', targetId: target.objectId ?? target.key, result: 'ok', detail: approval.id });
  }
  await runLifecycleCase(deps, approval.caseId, inv);
}
