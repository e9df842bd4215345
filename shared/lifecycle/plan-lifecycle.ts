import { KIND_LABEL } from '../graph/identity-kind';
import { canDisable } from '../graph/service-principals';
import { stepId, type CaseRecord, type StepAction, type TargetRecord } from '../store/case-model';
import type { StepSpec } from '../plans/step-runner';
import { lifecycleCaseInfo } from './lifecycle-case';

/**
 * The steps of a lifecycle case for its target. An expired agent (or one re-enabled behind the responder's
 * back after it expired): disable it, then tell its sponsors and owners. An agent past its grace period:
 * delete it, which always waits for approval. The case ticket is a case-level step added by the runner.
 */
export function planLifecycle(record: Pick<CaseRecord, 'dedupeKey' | 'source'>, target: TargetRecord): StepSpec[] {
  const { plan, endDate } = lifecycleCaseInfo(record);
  const kind = target.kind ?? 'other';
  const name = `${KIND_LABEL[kind]} "${target.displayName ?? target.objectId ?? target.key}"`;
  const steps: StepSpec[] = [];
  const add = (action: StepAction, description: string) => steps.push({ stepId: stepId(target.key, action), targetKey: target.key, action, description });
  if (plan === 'delete') {
    add('delete', `Delete ${name}, past the grace period after its end of lifecycle${endDate ? ` (${endDate})` : ''}; restorable for 30 days`);
    return steps;
  }
  const why = record.source === 'drift' ? 're-enabled outside the release process after its end of lifecycle' : `end of lifecycle ${endDate ?? 'reached'}`;
  if (canDisable(kind)) {
    add('disable', `Disable ${name} (accountEnabled = false): ${why}`);
  }
  add('notify-sponsors', `Tell the sponsors and owners of ${name} that it was disabled`);
  return steps;
}
