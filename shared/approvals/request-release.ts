import { z } from 'zod';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { issuesToFields } from '../alerts/direct-request';
import type { CaseStore } from '../store/case-store';
import type { TicketProvider } from '../tickets/ticket-provider';
import { requestApproval, type ApprovalDeps } from './request-approval';
import type { ClientPrincipal } from './client-principal';

export const releaseRequestSchema = z.strictObject({
  targetId: z.string().min(1).max(300),
  reason: z.string().trim().min(1).max(1000),
});
export type ReleaseRequest = z.infer<typeof releaseRequestSchema>;

/**
 * Asks to release a contained target: creates the approval (nothing changes until approved) and notes the
 * link on the ticket. The same request again returns the same approval.
 */
export async function requestRelease(
  deps: ApprovalDeps & { cases: CaseStore; tickets: TicketProvider },
  caseId: string,
  body: unknown,
  caller: ClientPrincipal | undefined,
): Promise<{ approvalId: string; status: string; expiresAt: string; approvalUrl: string | undefined; created: boolean }> {
  const parsed = releaseRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError('Invalid release request', issuesToFields(parsed.error.issues));
  }
  const bundle = await deps.cases.load(caseId);
  if (!bundle) {
    throw new NotFoundError(`No case ${caseId}`);
  }
  const wanted = parsed.data.targetId.toLowerCase();
  const target = bundle.targets.find((t) => t.objectId === wanted || t.key === wanted);
  if (!target) {
    throw new ValidationError('No such target on this case', [{ field: 'targetId', message: `case ${caseId} has no target ${parsed.data.targetId}` }]);
  }
  if (target.status !== 'contained') {
    throw new ConflictError('TargetNotContained', `Target ${parsed.data.targetId} is ${target.status}, not contained: there is nothing to release.`);
  }
  const requester = caller?.objectId ?? 'function-key-caller';
  const { approval, link, created } = await requestApproval(deps, {
    kind: 'release',
    caseId,
    target,
    reason: parsed.data.reason,
    requestedBy: requester,
    requestedByName: caller ? (caller.upn ?? caller.name) : 'a caller with the function key',
    round: `${requester}|${parsed.data.reason}`,
  });
  if (created && bundle.record.ticket && link) {
    await deps.tickets
      .addNote(bundle.record.ticket, `Release requested for ${approval.targetName}: ${approval.reason}\nApprove or reject: ${link}`, `agent-responders:${caseId}:release-request:${approval.id}`)
      .catch(() => undefined); // the approval stands; the ticket note is a convenience
  }
  return { approvalId: approval.id, status: approval.status, expiresAt: new Date(approval.expiresAt).toISOString(), approvalUrl: link, created };
}
