import { randomBytes } from 'node:crypto';
import type { Config } from '../config';
import { ForbiddenError } from '../errors';
import type { SignedInPrincipal } from '../auth/signed-in-principal';
import type { AuditLog } from '../store/audit-log';
import { CaseStore, storedText } from '../store/case-store';
import type { CaseRecord, TargetRecord } from '../store/case-model';
import { MAX_HINTED_TARGETS, type CaseHint } from '../store/case-queue';
import { deterministicGuid } from '../store/deterministic-guid';
import { keyOf } from '../store/storage-key';
import { sameRecord } from '../store/record-table';
import { workspaceKey } from '../sentinel/incident-arm-id';
import { targetKey, type ParsedAlert, type TargetRef } from '../alerts/alert-types';
import type { ReadAhead } from '../plans/read-ahead';

export interface IntakeDeps {
  config: Config;
  cases: CaseStore;
  audit: AuditLog;
  now: () => number;
  /** Sends the responder's first reads beside the record, for the run this process starts on the message. */
  readAhead?: Pick<ReadAhead, 'startNew' | 'start'>;
}

export interface IntakeResult {
  /** 202 new case; 200 a repeat (or an update of a known incident); 422 nothing usable (the case is still recorded). */
  status: 202 | 200 | 422;
  caseId: string;
  /** Whether the case must be (re)queued for the responder, with what the responder can start on at once. */
  enqueue: boolean;
  hint?: CaseHint;
  added: number;
}

/** Rejected entities kept on the case record itself; the full list goes to a blob beside the posted body. */
const MAX_REJECTED_INLINE = 20;

/**
 * Who may post, from where: the caller allow-list (principals App Service Authentication vouches for), the
 * Sentinel workspace allow-list, and direct requests only from allow-listed callers. Refusals are audited.
 */
export async function assertIntakeAllowed(deps: Pick<IntakeDeps, 'config' | 'audit'>, alert: ParsedAlert, caller: SignedInPrincipal | undefined): Promise<void> {
  const { config } = deps;
  const refuse = async (code: string, message: string): Promise<never> => {
    await deps.audit.write({ action: 'intake.refused', scope: 'intake', actor: caller?.objectId ?? 'anonymous', result: 'refused', detail: storedText(`${code}: ${message} (${alert.dedupeKey})`, 500) });
    throw new ForbiddenError(code, message);
  };
  const allowed = caller !== undefined && config.INTAKE_ALLOWED_CALLERS.includes(caller.objectId);
  if (config.INTAKE_ALLOWED_CALLERS.length > 0 && !allowed) {
    await refuse('CallerNotAllowed', caller ? `Caller ${caller.objectId} is not in INTAKE_ALLOWED_CALLERS.` : 'No signed-in caller: App Service Authentication must vouch for an allowed caller.');
  }
  if (alert.source === 'direct') {
    if (!allowed) {
      await refuse('DirectRequestNotAllowed', 'Direct requests are accepted only from callers listed in INTAKE_ALLOWED_CALLERS.');
    }
    return;
  }
  if (config.SENTINEL_WORKSPACES.length > 0) {
    const ws = alert.workspace;
    const key = ws ? workspaceKey(ws) : undefined;
    // Alert bodies carry subscription and resource group but not always the workspace name.
    const ok = key !== undefined && config.SENTINEL_WORKSPACES.some((w) => w === key || (ws?.workspaceName === undefined && w.startsWith(key)));
    if (!ok) {
      await refuse('WorkspaceNotAllowed', key ? `Workspace ${storedText(key, 300)} is not in SENTINEL_WORKSPACES.` : 'The body names no Sentinel workspace; SENTINEL_WORKSPACES requires one.');
    }
  }
}

/** The case of a Sentinel incident, alert or request: its id is derived from the dedupe key, so the case row is the claim. */
export function caseIdOf(dedupeKey: string): string {
  return deterministicGuid(`case|${dedupeKey}`);
}

function newTarget(ref: TargetRef, at: string, post: string): TargetRecord {
  const target: TargetRecord = { key: targetKey(ref), ref: boundedRef(ref), post, plan: 'contain', round: 0, status: 'pending', receivedAt: at };
  if (ref.by === 'objectId') {
    target.objectId = ref.objectId;
  }
  if (ref.name !== undefined) {
    target.displayName = storedText(ref.name, 256);
  }
  return target;
}

/** Display parts of a reference are cut to what a row holds; the identifying part is already bounded by the parser. */
function boundedRef(ref: TargetRef): TargetRef {
  return ref.name === undefined ? ref : { ...ref, name: storedText(ref.name, 256) };
}

/**
 * Records an alert as a case before answering, in one round trip for a new case: the case row and its targets in
 * one transaction (larger cases: targets first, the case row last), the raw body beside it as a blob (forensics).
 * Which case acts on an identity is decided later, by the responder (ownership), not here. A repeat of the same
 * incident or alert finds its case; an update that names new targets adds them, and posting the create and the
 * update at the same moment loses neither: whichever writes the case row second adds what it named.
 */
export async function acceptAlert(deps: IntakeDeps, alert: ParsedAlert, rawBody: string, caller: SignedInPrincipal | undefined): Promise<IntakeResult> {
  const at = new Date(deps.now()).toISOString();
  const caseId = caseIdOf(alert.dedupeKey);
  // What this post writes carries its own id: a conflict then tells this post's stored write (its answer lost) from
  // an identical post's in the same millisecond.
  const post = randomBytes(8).toString('hex');
  const targets = alert.targets.map((ref) => newTarget(ref, at, post));
  const rejectedBlob = alert.rejected.length > MAX_REJECTED_INLINE ? JSON.stringify(alert.rejected) : undefined;
  const record: CaseRecord = {
    caseId,
    kind: 'containment',
    source: alert.source,
    createdAt: at,
    updatedAt: at,
    status: alert.targets.length === 0 ? 'ignored' : 'received',
    mode: deps.config.RESPONDER_MODE,
    title: storedText(alert.title),
    severity: alert.severity,
    dedupeKey: storedText(alert.dedupeKey, 2_000),
    requestedBy: caller?.objectId ?? 'function-key',
    rejected: alert.rejected.slice(0, MAX_REJECTED_INLINE),
    ...(rejectedBlob ? { rejectedCount: alert.rejected.length } : {}),
    ...(alert.incidentArmId ? { incidentArmId: alert.incidentArmId } : {}),
    ...(alert.incidentNumber !== undefined ? { incidentNumber: alert.incidentNumber } : {}),
    ...(alert.incidentUrl ? { incidentUrl: storedText(alert.incidentUrl, 2_000) } : {}),
    ...(alert.alertId ? { alertId: storedText(alert.alertId, 2_000) } : {}),
    ...(alert.workspace ? { workspace: alert.workspace } : {}),
    ...(alert.targets.length === 0 ? { note: 'No entity identifies an Entra identity; see rejected entities.' } : {}),
    post,
  };
  const actor = caller?.objectId ?? 'function-key';
  const hintOf = (chosen: readonly TargetRecord[]): CaseHint => ({
    source: alert.source,
    ...(alert.incidentArmId ? { incidentArmId: alert.incidentArmId } : {}),
    ...(alert.alertId && alert.alertId.length <= 2_000 ? { alertId: alert.alertId } : {}),
    ...(alert.workspace?.customerId ? { workspaceCustomerId: alert.workspace.customerId } : {}),
    targets: chosen.slice(0, MAX_HINTED_TARGETS).map((t) => ({ key: t.key, ref: t.ref })),
  });
  const hint = targets.length > 0 ? hintOf(targets) : undefined;
  if (hint) {
    // Reads only, sent before the record is stored: the responder's reads then run beside the queue hop. A case this
    // instance read for before is probably a repeat or an update: its new targets are read once the record says which.
    deps.readAhead?.startNew(caseId, hint);
  }
  // One round trip: the case, its body and the audit of the post go out together.
  const [{ created }] = await Promise.all([
    deps.cases.create(record, targets),
    deps.cases.putBlob(caseId, CaseStore.bodyBlobName(rawBody), rawBody),
    rejectedBlob ? deps.cases.putBlob(caseId, `rejected-${keyOf(rejectedBlob).slice(0, 16)}`, rejectedBlob) : undefined,
    deps.audit.write({ action: 'intake.received', scope: caseId, actor, result: 'ok', detail: storedText(`${alert.dedupeKey}: ${targets.length} target(s), ${alert.rejected.length} entity(ies) rejected`, 500) }),
  ]);
  // Not created: a repeat, or this post's own creation, stored with its answer lost (the case row is this post's).
  const existing = created ? undefined : await deps.cases.load(caseId);
  if (created || (existing && sameRecord(existing.record, record))) {
    return { status: targets.length === 0 ? 422 : 202, caseId, enqueue: targets.length > 0, ...(hint ? { hint } : {}), added: targets.length };
  }

  // A repeat or an update: add what the case does not hold yet; queue the case if anything is left to do.
  const known = new Set(existing?.targets.map((t) => t.key) ?? []);
  const added = await deps.cases.addTargets(caseId, targets, known);
  const addedHint = added.length > 0 ? hintOf(added) : undefined;
  if (addedHint) {
    deps.readAhead?.start(caseId, addedHint);
  }
  const unfinished = existing?.record.status === 'received' || (existing?.targets.some((t) => t.status === 'pending') ?? false);
  if (added.length > 0) {
    await deps.audit.write({ action: 'intake.update', scope: caseId, actor, result: 'ok', detail: storedText(`${added.length} new target(s) from ${alert.dedupeKey}`, 500) });
  }
  // A repeat of a body that named nobody usable gets the same answer as the first time.
  if (alert.targets.length === 0) {
    return { status: 422, caseId, enqueue: false, added: 0 };
  }
  return { status: 200, caseId, enqueue: added.length > 0 || unfinished, ...(addedHint ? { hint: addedHint } : {}), added: added.length };
}
