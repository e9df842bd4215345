import { createHash } from 'node:crypto';
import type { Config } from '../config';
import type { Graph } from '../graph/graph-client';
import { KIND_LABEL } from '../graph/identity-kind';
import { readAccountable } from '../graph/sponsors';
import { isAccountableKind } from './separation-of-duties';
import type { AuditLog } from '../store/audit-log';
import type { TargetRecord } from '../store/case-model';
import type { RecordTable } from '../store/record-table';
import { isConflict } from '../store/storage';
import { APPROVAL_ROW, type ApprovalEntity, type ApprovalKind } from './approval-entity';
import { approvalColumns } from './approval-columns';
import { approvalLink } from './approval-link';
import { newNonce } from './approval-token';
import { ValidationError } from '../errors';
import { announceRequest, type AnnounceRequestDeps } from './announce-request';
import { lookUpApprovers } from './look-up-approvers';

export interface ApprovalDeps {
  config: Config;
  graph: Graph;
  approvals: RecordTable<ApprovalEntity>;
  audit: AuditLog;
  responderId: () => Promise<string | undefined>;
  now: () => number;
  log?: { warn(msg: string): void };
}

export interface ApprovalRequest {
  kind: ApprovalKind;
  caseId: string;
  target: TargetRecord;
  reason: string;
  /**
   * Object id (GUID) of the principal who asked: a verified signed-in person, the verified caller of the intake,
   * or the responder itself for its own timers. Never a placeholder such as `system`.
   */
  requestedBy: string;
  requestedByName: string;
  /** Distinguishes two approvals of the same kind for the same target (e.g. a second release request). */
  round?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Plain words for what an approval will change. */
export function describeApprovalAction(kind: ApprovalKind, target: TargetRecord): string {
  const name = `${KIND_LABEL[target.kind ?? 'other']} "${target.displayName ?? target.objectId ?? target.key}"`;
  switch (kind) {
    case 'release':
      return `Re-enable ${name}, dismiss its risk in Entra ID Protection, and note the release on the incident and ticket.`;
    case 'held-containment':
      return target.kind === 'agentBlueprintPrincipal'
        ? `Disable ${name}. This disables EVERY agent created from this blueprint.`
        : `Contain ${name}: disable it (or revoke its sessions), and confirm it compromised in Entra ID Protection.`;
    case 'lifecycle-delete':
      return `Delete ${name} (restorable for 30 days from deleted items).`;
  }
}

/**
 * Creates (once) the approval a held action waits for: who may not decide (sponsors, owners, the
 * requester, the responder, the target), the quorum, the expiry, and a signed link, and tells the approvers
 * (`announceRequest`). The id is derived from the case, target, kind and round, so a retried run finds the same
 * approval instead of a second one, and announces it on the channels its first attempt did not reach.
 */
export async function requestApproval(deps: AnnounceRequestDeps, req: ApprovalRequest): Promise<{ approval: ApprovalEntity; link: string | undefined; created: boolean }> {
  if (!GUID.test(req.requestedBy)) {
    // Whoever asks can never approve; that rule needs a real principal to compare against.
    throw new ValidationError('An approval must be requested by a named principal', [{ field: 'requestedBy', message: 'must be the object id (GUID) of the person or workload that asked' }]);
  }
  const id = createHash('sha256').update(`${req.caseId}|${req.target.key}|${req.kind}|${req.round ?? ''}`).digest('hex').slice(0, 24);
  const existing = await deps.approvals.get(id, APPROVAL_ROW);
  if (existing) {
    await announceRequest(deps, existing);
    return { approval: existing.value, link: approvalLink(deps.config, existing.value), created: false };
  }
  const excluded = new Set<string>([req.requestedBy.toLowerCase()]);
  const responder = await deps.responderId().catch(() => undefined);
  if (responder) {
    excluded.add(responder);
  }
  let accountable: ApprovalEntity['accountable'];
  if (req.target.objectId && req.target.kind) {
    excluded.add(req.target.objectId);
    if (isAccountableKind(req.target.kind)) {
      const read = await readAccountable(deps.graph, { id: req.target.objectId, kind: req.target.kind });
      const at = new Date(deps.now()).toISOString();
      if (read.ok) {
        read.ids.forEach((s) => excluded.add(s));
        accountable = { state: 'read', at };
      } else {
        // The approval is still made (so the hold has something to act on), but nobody can decide it until the
        // sponsors and owners can be read: every view and decision reads them again.
        accountable = { state: 'unreadable', at, detail: read.failure.message, permission: read.failure.permission };
        deps.log?.warn(`approval ${id}: separation of duties cannot be checked yet: ${read.failure.message}`);
      }
    }
  }
  const approvers = await lookUpApprovers(deps, id);
  const now = deps.now();
  const quorum = req.kind === 'release' && req.target.kind === 'agentBlueprintPrincipal' ? deps.config.BLUEPRINT_RELEASE_QUORUM : deps.config.APPROVAL_QUORUM;
  const approval: ApprovalEntity = {
    id,
    kind: req.kind,
    status: 'pending',
    quorum,
    expiresAt: now + deps.config.APPROVAL_TTL_HOURS * 3_600_000,
    requestedBy: req.requestedBy.toLowerCase(),
    requestedByName: req.requestedByName,
    approversText: approvers.text,
    excluded: [...excluded],
    decisions: [],
    caseId: req.caseId,
    targetKey: req.target.key,
    targetId: req.target.objectId ?? req.target.key,
    targetName: req.target.displayName ?? req.target.objectId ?? req.target.key,
    targetKind: req.target.kind ?? 'other',
    actionText: describeApprovalAction(req.kind, req.target),
    title: req.kind === 'release' ? 'Release a contained identity' : req.kind === 'lifecycle-delete' ? 'Delete an expired agent' : 'Approve a held containment',
    reason: req.reason,
    createdAt: new Date(now).toISOString(),
    nonce: newNonce(),
    ...(accountable === undefined ? {} : { accountable }),
    announced: {},
    announcing: new Date(now).toISOString(), // this request announces itself (below): nobody else meanwhile
  };
  // Audited before the row is stored, and nothing after the insert throws: a request retried after a failure meets its
  // row and returns it as found (created: false), so an audit left undone after the insert would never be done. A failed
  // attempt may leave an audit entry for a request it did not store (its retry audits again). The announcement is
  // recorded per channel on the row, so the retry (or the approvals timer) sends what this attempt did not.
  await deps.audit.write({ action: 'approval.requested', scope: req.caseId, actor: req.requestedBy, targetId: approval.targetId, result: 'ok', detail: `${id}: ${approval.actionText}` });
  if (accountable?.state === 'unreadable') {
    await deps.audit.write({ action: 'approval.sod-unverifiable', scope: req.caseId, actor: 'system', targetId: approval.targetId, result: 'refused', detail: `${id}: nobody can decide until sponsors and owners can be read: ${accountable.detail ?? ''}` });
  }
  let etag: string;
  try {
    // Checked: an insert stored whose answer was lost is this request's (its nonce is new), and still needs its
    // announcement.
    etag = await deps.approvals.insertChecked(id, APPROVAL_ROW, approval, approvalColumns(approval));
  } catch (err) {
    if (isConflict(err)) {
      const winner = await deps.approvals.get(id, APPROVAL_ROW);
      if (winner) {
        return { approval: winner.value, link: approvalLink(deps.config, winner.value), created: false };
      }
    }
    throw err;
  }
  await announceRequest(deps, { value: approval, etag }, { approvers, claimed: true });
  return { approval, link: approvalLink(deps.config, approval), created: true };
}
