import { KIND_LABEL, type IdentityKind } from '../graph/identity-kind';
import { canDisable } from '../graph/service-principals';
import { riskApiFor } from '../graph/identity-protection';
import { stepId, type StepAction, type TargetRecord } from '../store/case-model';
import type { StepSpec } from '../plans/step-runner';

/**
 * The containment steps of one target, by kind (DESIGN.md, containment table). The disable comes first:
 * confirming compromise changes only the risk state, while issued tokens stay valid until the disable.
 */
export function planContainment(target: TargetRecord): StepSpec[] {
  const kind: IdentityKind = target.kind ?? 'other';
  const name = target.displayName ?? target.objectId ?? target.key;
  const label = KIND_LABEL[kind];
  const steps: StepSpec[] = [];
  const add = (action: StepAction, description: string) => steps.push({ stepId: stepId(target.key, action), targetKey: target.key, action, description });
  if (canDisable(kind)) {
    add('disable', `Disable ${label} "${name}" (accountEnabled = false)`);
  }
  if (riskApiFor(kind) !== undefined) {
    add('confirm-compromised', `Confirm ${label} "${name}" compromised in Entra ID Protection (${riskApiFor(kind)})`);
  }
  if (kind === 'agentUser' || kind === 'user') {
    add('revoke-sessions', `Revoke the sign-in sessions of ${label} "${name}"`);
  }
  return steps;
}
