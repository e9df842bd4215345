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
  if (approval.status === 'expired' && approval.endedEarly !== undefined) {
    const at = approval.decidedAt === undefined ? '' : ` at ${minute(Date.parse(approval.decidedAt))}`;
    return `${what} request ended${at} without a decision: ${approval.endedEarly}. Nothing was changed; ask again if still needed (approval ${approval.id}).`;
  }
  if (approval.status === 'expired') {
    return `${what} request expired at ${minute(approval.expiresAt)} without a decision. Nothing was changed; ask again if still needed (approval ${approval.id}).`;
  }
  return undefined;
}
