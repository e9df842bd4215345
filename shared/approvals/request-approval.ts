import { createHash } from 'node:crypto';
import { decodeKey, type Config } from '../config';
import type { Graph } from '../graph/graph-client';
import { KIND_LABEL } from '../graph/identity-kind';
import { getByIds } from '../graph/directory-objects';
import { readAccountable } from '../graph/sponsors';
import { isAccountableKind } from './separation-of-duties';
import { sendMail } from '../graph/mail';
import type { AuditLog } from '../store/audit-log';
import type { TargetRecord } from '../store/case-model';
import type { RecordTable } from '../store/record-table';
import { isConflict } from '../store/storage';
import type { ApprovalEntity, ApprovalKind } from './approval-entity';
import { approvalColumns } from './approval-columns';
import { newNonce, signApprovalToken } from './approval-token';
import { ensureError, ValidationError } from '../errors';
import { announceApproval } from './announce-approval';

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

export const APPROVAL_ROW = 'approval';

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

/** The link an approver opens; the token proves the link came from us, for this approval, before expiry. */
export function approvalLink(config: Pick<Config, 'PUBLIC_BASE_URL' | 'APPROVAL_SIGNING_KEY'>, approval: Pick<ApprovalEntity, 'id' | 'expiresAt' | 'nonce'>): string | undefined {
  if (!config.PUBLIC_BASE_URL || !config.APPROVAL_SIGNING_KEY) {
    return undefined;
  }
  const token = signApprovalToken(decodeKey(config.APPROVAL_SIGNING_KEY), { approvalId: approval.id, expiresAt: approval.expiresAt, nonce: approval.nonce });
  return `${config.PUBLIC_BASE_URL}/api/approvals/${encodeURIComponent(approval.id)}?token=${encodeURIComponent(token)}`;
}

/**
 * Creates (once) the approval a held action waits for: who may not decide (sponsors, owners, the
 * requester, the responder, the target), the quorum, the expiry, and a signed link. The id is derived
 * from the case, target, kind and round, so a retried run finds the same approval instead of a second one.
 */
export async function requestApproval(deps: ApprovalDeps, req: ApprovalRequest): Promise<{ approval: ApprovalEntity; link: string | undefined; created: boolean }> {
  if (!GUID.test(req.requestedBy)) {
    // Whoever asks can never approve; that rule needs a real principal to compare against.
    throw new ValidationError('An approval must be requested by a named principal', [{ field: 'requestedBy', message: 'must be the object id (GUID) of the person or workload that asked' }]);
  }
  const id = createHash('sha256').update(`${req.caseId}|${req.target.key}|${req.kind}|${req.round ?? ''}`).digest('hex').slice(0, 24);
  const existing = await deps.approvals.get(id, APPROVAL_ROW);
  if (existing) {
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
  };
  // Audited before the row is stored, and nothing after the insert throws: a request retried after a failure meets its
  // row and returns it as found (created: false), so a step left undone after the insert (the audit, the announcement,
  // the mail, the caller's ticket note with the link) would never be done. A failed attempt may leave an audit entry
  // for a request it did not store (its retry audits again); never a stored request nobody was told about.
  await deps.audit.write({ action: 'approval.requested', scope: req.caseId, actor: req.requestedBy, targetId: approval.targetId, result: 'ok', detail: `${id}: ${approval.actionText}` });
  if (accountable?.state === 'unreadable') {
    await deps.audit.write({ action: 'approval.sod-unverifiable', scope: req.caseId, actor: 'system', targetId: approval.targetId, result: 'refused', detail: `${id}: nobody can decide until sponsors and owners can be read: ${accountable.detail ?? ''}` });
  }
  try {
    // Checked: an insert stored whose answer was lost is this request's (its nonce is new), and still needs its
    // announcement.
    await deps.approvals.insertChecked(id, APPROVAL_ROW, approval, approvalColumns(approval));
  } catch (err) {
    if (isConflict(err)) {
      const winner = await deps.approvals.get(id, APPROVAL_ROW);
      if (winner) {
        return { approval: winner.value, link: approvalLink(deps.config, winner.value), created: false };
      }
    }
    throw err;
  }
  await announceApproval(deps, approval);
  const link = approvalLink(deps.config, approval);
  if (link && deps.config.APPROVAL_MAIL_SENDER) {
    await mailApprovers(deps, approval, link, approvers.mailboxes).catch((err: unknown) => deps.log?.warn(`approval ${id}: mail not sent: ${ensureError(err).message}`));
  }
  return { approval, link, created: true };
}

/** Entries of the "who may decide" sentence before it is cut short: the page must stay readable on a phone. */
const MAX_NAMED_APPROVERS = 8;

interface ApproverLookup {
  /** Plain words for the page and the mail: who may decide. */
  text: string;
  /** Object id and sign-in address of each user listed in `APPROVERS` directly (groups are not expanded). */
  mailboxes: { id: string; address: string }[];
}

/**
 * Names the approvers (one `getByIds` call for users and groups alike), so the page says who may decide in
 * words a person recognises. Membership itself is checked again at decision time, never taken from here.
 */
async function lookUpApprovers(deps: ApprovalDeps, approvalId: string): Promise<ApproverLookup> {
  const ids = deps.config.APPROVERS;
  const rule = 'Membership is checked in Microsoft Entra when you decide. The requester, the identity’s sponsors and owners, and the responder itself cannot approve.';
  if (ids.length === 0) {
    return { text: 'Nobody: APPROVERS is empty, so no one can approve this request. Ask an administrator to set it.', mailboxes: [] };
  }
  let objects: Awaited<ReturnType<typeof getByIds>>['objects'] = [];
  try {
    objects = (await getByIds(deps.graph, ids)).objects;
  } catch (err) {
    deps.log?.warn(`approval ${approvalId}: could not name the approvers: ${ensureError(err).message}`);
    return { text: `The ${ids.length} people and groups listed in APPROVERS. ${rule}`, mailboxes: [] };
  }
  const byId = new Map(objects.map((o) => [o.id, o]));
  const people: string[] = [];
  const groups: string[] = [];
  const mailboxes: ApproverLookup['mailboxes'] = [];
  for (const id of ids) {
    const o = byId.get(id);
    if (o === undefined) {
      people.push(`the directory object ${id} (not found)`);
    } else if (o.odataType.toLowerCase() === '#microsoft.graph.group') {
      groups.push(o.displayName ?? id);
    } else {
      people.push(o.userPrincipalName ? `${o.displayName ?? o.userPrincipalName} (${o.userPrincipalName})` : (o.displayName ?? id));
      if (o.userPrincipalName && o.kind === 'user') {
        mailboxes.push({ id, address: o.userPrincipalName });
      }
    }
  }
  const entries = [...people, ...groups.map((g) => `a member of the group ${g}`)];
  const shown = entries.slice(0, MAX_NAMED_APPROVERS);
  const more = entries.length - shown.length;
  const list = more > 0 ? `${shown.join(', ')}, and ${more} more listed in APPROVERS` : joinOr(shown);
  return { text: `${list}. ${rule}`, mailboxes };
}

function joinOr(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1) ?? ''}`;
}

/**
 * Emails the link to the approvers listed by user id, from the configured mailbox. Members of approver
 * groups are not mailed (that needs group membership reads the responder is not granted); they reach the
 * link through the ticket and the incident comment.
 */
async function mailApprovers(deps: ApprovalDeps, approval: ApprovalEntity, link: string, mailboxes: ApproverLookup['mailboxes']): Promise<void> {
  const sender = deps.config.APPROVAL_MAIL_SENDER;
  const to = mailboxes.filter((m) => !approval.excluded.includes(m.id)).map((m) => m.address);
  if (!sender || to.length === 0) {
    return;
  }
  await sendMail(deps.graph, sender, {
    to,
    subject: `[Approval needed] ${approval.title}: ${approval.targetName}`,
    text: [
      approval.actionText,
      '',
      `Requested by: ${approval.requestedByName}`,
      `Why: ${approval.reason}`,
      `Approvals needed: ${approval.quorum}`,
      `Decide before: ${new Date(approval.expiresAt).toISOString()}`,
      '',
      'Open this link, sign in, and choose Approve or Reject (opening it changes nothing):',
      link,
    ].join('\n'),
  });
}
