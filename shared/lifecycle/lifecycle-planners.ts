import type { Config } from '../config';
import { UpstreamError } from '../errors';
import type { Graph } from '../graph/graph-client';
import { deleteIdentity } from '../graph/identity-deletion';
import { kindFacts } from '../graph/identity-kinds';
import { sendMail } from '../graph/mail';
import { setAccountEnabled } from '../graph/service-principals';
import { listSponsorsAndOwners } from '../graph/sponsors';
import type { Planner, PlanStep, StepResult } from '../plans/planner';
import type { CaseRecord, TargetRecord } from '../store/case-model';
import { targetName } from '../containment/contain-planner';
import { AddressBook } from './address-book';

export interface LifecycleDeps {
  graph: Graph;
  config: Pick<Config, 'APPROVAL_MAIL_SENDER'>;
  /** Where a case is shown (the case page), for the mail. */
  caseUrl: (caseId: string) => string | undefined;
}

/**
 * An agent whose lifecycle ended (or one re-enabled behind the responder's back after it ended): disable it,
 * then tell its sponsors and owners. Counted against the blast-radius limit like a containment, so a wrong tag
 * or attribute cannot disable the whole fleet at once.
 */
export function expirePlanner(deps: LifecycleDeps): Planner {
  return {
    plan: 'expire',
    cutsAccess: true,
    approvalKind: 'held-containment',
    steps(target, record) {
      const steps: PlanStep[] = [];
      const name = targetName(target);
      const why = record.source === 'drift' ? 're-enabled outside the release process after its end of lifecycle' : `end of lifecycle ${record.endDate ?? 'reached'}`;
      if (kindFacts(target.kind).cut === 'disable') {
        steps.push({
          action: 'disable',
          description: `Disable ${name} (accountEnabled = false): ${why}`,
          idempotent: true,
          cutsAccess: true,
          run: async () => {
            const res = await setAccountEnabled(deps.graph, { id: target.objectId ?? '', kind: target.kind ?? 'other' }, false);
            return { requestIds: res.requestId ? [res.requestId] : [], detail: 'accountEnabled = false acknowledged by Graph' };
          },
        });
      }
      steps.push({
        action: 'notify-sponsors',
        description: `Tell the sponsors and owners of ${name} that it was disabled`,
        // A mail cannot be taken back: a send whose outcome was lost is not sent again.
        idempotent: false,
        onlyIfFirstDone: steps.length > 0,
        run: (prior) => (prior.attemptAt !== undefined ? Promise.resolve({ detail: 'an earlier send may have gone out (its answer was lost): not sent again' }) : notifyDisabled(deps, record, target)),
      });
      return steps;
    },
    outcome: { done: 'contained', reportOnly: 'would-contain', reason: () => 'Disabled at the end of its lifecycle.' },
  };
}

/** An agent past its grace period: delete it (restorable for 30 days). Always waits for an approver. */
export function deletePlanner(deps: Pick<LifecycleDeps, 'graph'>): Planner {
  return {
    plan: 'delete',
    cutsAccess: false,
    supersedesContainment: true,
    approvalKind: 'lifecycle-delete',
    holdReason: () => 'Deleting an agent always waits for approval (it stays restorable for 30 days).',
    steps(target, record) {
      return [
        {
          action: 'delete',
          description: `Delete ${targetName(target)}, past the grace period after its end of lifecycle${record.endDate ? ` (${record.endDate})` : ''}; restorable for 30 days`,
          idempotent: true,
          run: async (): Promise<StepResult> => {
            try {
              const res = await deleteIdentity(deps.graph, { id: target.objectId ?? '', kind: target.kind ?? 'other' });
              return { requestIds: res.requestId ? [res.requestId] : [], detail: 'deleted; restorable from deleted items for 30 days' };
            } catch (err) {
              // A retry of a delete whose answer was lost finds the object gone: that is the outcome we wanted.
              if (err instanceof UpstreamError && err.httpStatus === 404) {
                return { detail: 'already deleted' };
              }
              throw err;
            }
          },
        },
      ];
    },
    outcome: {
      done: 'deleted',
      reportOnly: 'would-contain',
      reason: (target) => `Deleted at the end of its lifecycle (approved by ${target.approvedBy ?? 'an approver'}); restorable from deleted items for 30 days.`,
    },
  };
}

/** Mails the agent's sponsors and owners that it was disabled and why. */
async function notifyDisabled(deps: LifecycleDeps, record: CaseRecord, target: TargetRecord): Promise<StepResult> {
  const sender = deps.config.APPROVAL_MAIL_SENDER;
  if (!sender) {
    return { detail: 'APPROVAL_MAIL_SENDER is not set: nobody was mailed' };
  }
  const { byId } = await listSponsorsAndOwners(deps.graph, [{ id: target.objectId ?? '', kind: target.kind ?? 'other' }]);
  const accountable = byId.get(target.objectId ?? '');
  const ids = [...(accountable?.sponsors ?? []), ...(accountable?.owners ?? [])];
  const book = new AddressBook(deps.graph);
  await book.load(ids);
  const to = book.addresses(ids);
  if (to.length === 0) {
    return { detail: 'no sponsor or owner with a mailbox' };
  }
  const url = deps.caseUrl(record.caseId);
  const why =
    record.source === 'drift'
      ? 'it was re-enabled outside the release process after its end of lifecycle, so it was disabled again'
      : `its end of lifecycle (${record.endDate ?? 'its end date'}) has passed`;
  await sendMail(deps.graph, sender, {
    to,
    subject: `[Agent responders] ${target.displayName ?? target.objectId ?? target.key} was disabled: end of lifecycle`,
    text: [
      `The ${targetName(target)} (${target.objectId ?? target.key}), which you sponsor or own, was disabled: ${why}.`,
      '',
      'If it must keep running, move its end date and ask for a release of the case.',
      `Case: ${url ?? record.caseId}`,
    ].join('\n'),
  });
  return { detail: `mailed ${to.length} sponsor(s)/owner(s)` };
}
