import { kindFacts } from '../graph/identity-kinds';
import type { RiskCoalescer } from '../graph/risk-coalescer';
import type { Graph } from '../graph/graph-client';
import { setAccountEnabled } from '../graph/service-principals';
import type { Planner, PlanStep } from '../plans/planner';
import { targetName } from './contain-planner';

/**
 * The release of a contained identity, once approvers granted it: re-enable it (where containment disabled it)
 * and dismiss its risk. It never runs without an approval: a released target enters this plan only from a
 * granted release approval (see apply-approval).
 */
export function releasePlanner(deps: { graph: Graph; risk: Pick<RiskCoalescer, 'submit'> }): Planner {
  return {
    plan: 'release',
    cutsAccess: false,
    approvalKind: 'release',
    steps(target) {
      const facts = kindFacts(target.kind);
      const id = target.objectId ?? '';
      const name = targetName(target);
      const steps: PlanStep[] = [];
      if (facts.cut === 'disable') {
        steps.push({
          action: 'enable',
          description: `Re-enable ${name} (release approved by ${target.approvedBy ?? 'an approver'})`,
          idempotent: true,
          run: async () => {
            const res = await setAccountEnabled(deps.graph, { id, kind: target.kind ?? 'other' }, true);
            return { requestIds: res.requestId ? [res.requestId] : [], detail: 'accountEnabled = true' };
          },
        });
      }
      const risk = facts.risk;
      if (risk) {
        steps.push({
          action: 'dismiss-risk',
          description: `Dismiss the risk of ${name} in Entra ID Protection (${risk}/dismiss)`,
          idempotent: true,
          run: async () => {
            const requestId = await deps.risk.submit(risk, 'dismiss', [id]);
            return { requestIds: requestId ? [requestId] : [], detail: 'risk dismissed' };
          },
        });
      }
      return steps;
    },
    outcome: {
      done: 'released',
      reportOnly: 'contained',
      reason: (target) => `Released ${targetName(target)}: approved by ${target.approvedBy ?? 'an approver'}.`,
    },
  };
}
