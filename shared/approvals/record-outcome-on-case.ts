import { enqueueCase } from '../containment/case-message';
import type { CaseStore } from '../store/case-store';
import type { Storage } from '../store/storage';
import type { ApprovalEntity } from './approval-entity';

/** UTC, minute precision, as on the approval page. */
function minute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Who rejected and why, in the words the case view, the ticket and the incident comment show. */
export function describeOutcome(approval: ApprovalEntity): string | undefined {
  const what = approval.kind === 'release' ? 'Release' : approval.kind === 'lifecycle-delete' ? 'Deletion' : 'Containment';
  if (approval.status === 'rejected') {
    const rejection = approval.decisions.find((d) => d.decision === 'reject');
    const who = rejection?.name ?? rejection?.by ?? 'an approver';
    const why = rejection?.comment ? `: "${rejection.comment}"` : ' (no comment given)';
    const at = rejection ? ` at ${minute(rejection.at)}` : '';
    return `${what} rejected by ${who}${at}${why}. Nothing was changed (approval ${approval.id}).`;
  }
  if (approval.status === 'expired') {
    return `${what} request expired at ${minute(approval.expiresAt)} without a decision. Nothing was changed; ask again if still needed (approval ${approval.id}).`;
  }
  return undefined;
}

/**
 * Writes a rejection or expiry onto the case, so `GET /api/cases/{id}` says who decided and why. A rejected
 * held containment turns its target `rejected` and re-queues the case, so the responder reports the new
 * outcome on the ticket and the incident the same way it reports every other outcome; an expired one turns it
 * `expired` the same way. A rejected or expired release leaves the target contained, with the outcome in its
 * reason.
 */
export async function recordOutcomeOnCase(deps: { cases: CaseStore; storage: Storage }, approval: ApprovalEntity): Promise<void> {
  const text = describeOutcome(approval);
  const bundle = text === undefined ? undefined : await deps.cases.load(approval.caseId);
  const target = bundle?.targets.find((t) => t.key === approval.targetKey);
  if (text === undefined || !target) {
    return;
  }
  const reason = target.reason?.includes(approval.id) === true ? target.reason : [target.reason, text].filter(Boolean).join(' ');
  if (target.status === 'held' && target.approvalId === approval.id && (approval.status === 'rejected' || approval.status === 'expired')) {
    // The hold ends either way; a later alert about the same identity starts a fresh case and a fresh approval.
    await deps.cases.putTarget(approval.caseId, { ...target, status: approval.status, reason });
    await enqueueCase(deps.storage, { caseId: approval.caseId, kind: bundle?.record.kind });
    return;
  }
  if (reason !== target.reason) {
    await deps.cases.putTarget(approval.caseId, { ...target, reason });
  }
}
