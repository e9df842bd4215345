import { randomUUID } from 'node:crypto';
import type { Config } from '../config';
import { ForbiddenError } from '../errors';
import type { SignedInPrincipal } from '../auth/signed-in-principal';
import type { AuditLog } from '../store/audit-log';
import type { CaseStore } from '../store/case-store';
import type { KeyStore } from '../store/key-store';
import type { CaseRecord, TargetRecord } from '../store/case-model';
import { workspaceKey } from '../sentinel/incident-arm-id';
import { isConflict } from '../store/storage';
import { targetKey, type ParsedAlert } from './alert-types';

export interface IntakeDeps {
  config: Config;
  cases: CaseStore;
  keys: KeyStore;
  audit: AuditLog;
  now: () => number;
}

export interface IntakeResult {
  /** 202 new case; 200 a repeat (or an update of a known incident); 422 nothing usable (case still recorded). */
  status: 202 | 200 | 422;
  caseId: string;
  /** Whether the case must be (re)queued for the responder. */
  enqueue: boolean;
  added: number;
  joined: number;
}

const DEDUPE = 'dedupe';
const OPEN_TARGET = 'open-target';
/** How long a target claim may point at a case that is still being written. */
const IN_FLIGHT_MS = 60_000;
/** Target states that mean another case is handling (or handled) the identity. */
const HANDLED: ReadonlySet<TargetRecord['status']> = new Set(['pending', 'held', 'contained', 'would-contain']);

/**
 * Who may post, from where: the caller allow-list (principals App Service Authentication vouches for), the
 * Sentinel workspace allow-list, and direct requests only from allow-listed callers. Refusals are audited.
 */
export async function assertIntakeAllowed(deps: Pick<IntakeDeps, 'config' | 'audit'>, alert: ParsedAlert, caller: SignedInPrincipal | undefined): Promise<void> {
  const { config } = deps;
  const refuse = async (code: string, message: string): Promise<never> => {
    await deps.audit.write({ action: 'intake.refused', scope: 'intake', actor: caller?.objectId ?? 'anonymous', result: 'refused', detail: `${code}: ${message} (${alert.dedupeKey})` });
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
      await refuse('WorkspaceNotAllowed', key ? `Workspace ${key} is not in SENTINEL_WORKSPACES.` : 'The body names no Sentinel workspace; SENTINEL_WORKSPACES requires one.');
    }
  }
}

/**
 * Records an alert as a case before answering: the raw body (forensics), the case and its targets in one
 * transaction. A repeat of the same incident or alert returns the existing case; an incident update that
 * names new targets adds them; a target another open case already handles joins that case instead.
 */
export async function acceptAlert(deps: IntakeDeps, alert: ParsedAlert, rawBody: string, caller: SignedInPrincipal | undefined): Promise<IntakeResult> {
  const now = new Date(deps.now()).toISOString();
  const proposedId = randomUUID();
  const claim = await deps.keys.claim(DEDUPE, alert.dedupeKey, proposedId);
  const caseId = claim.value;
  const existing = claim.claimed ? undefined : await deps.cases.getCase(caseId);

  const targets: TargetRecord[] = [];
  let joined = 0;
  for (const ref of alert.targets) {
    const key = targetKey(ref);
    const target: TargetRecord = { key, ref, status: 'pending', receivedAt: now };
    if (ref.by === 'objectId') {
      target.objectId = ref.objectId;
    }
    if (ref.name !== undefined) {
      target.displayName = ref.name;
    }
    const other = await openCaseOf(deps, key, caseId);
    if (other !== undefined) {
      target.status = 'joined';
      target.joinedCaseId = other;
      target.reason = `Already handled by open case ${other}`;
      joined++;
    }
    targets.push(target);
  }

  if (existing) {
    const added = await deps.cases.addTargets(caseId, targets);
    const toRun = added.filter((t) => t.status === 'pending').length;
    if (toRun > 0) {
      await deps.cases.updateCase(caseId, (r) => {
        if (r.status !== 'suspicious' && r.status !== 'failed') {
          r.status = 'running';
        }
      });
      await deps.audit.write({ action: 'intake.update', scope: caseId, actor: caller?.objectId ?? 'playbook', result: 'ok', detail: `${toRun} new target(s) from ${alert.dedupeKey}` });
    }
    // A repeat of a body that named nobody usable gets the same answer as the first time.
    if (alert.targets.length === 0) {
      return { status: 422, caseId, enqueue: false, added: 0, joined: 0 };
    }
    // A case still `received` may never have reached the queue (the enqueue failed after it was recorded).
    return { status: 200, caseId, enqueue: toRun > 0 || existing.status === 'received', added: added.length, joined };
  }

  const usable = targets.filter((t) => t.status === 'pending').length;
  const record: CaseRecord = {
    caseId,
    kind: 'containment',
    source: alert.source,
    createdAt: now,
    updatedAt: now,
    status: alert.targets.length === 0 ? 'ignored' : usable === 0 ? 'done' : 'received',
    mode: deps.config.RESPONDER_MODE,
    title: alert.title,
    severity: alert.severity,
    dedupeKey: alert.dedupeKey,
    requestedBy: caller?.objectId ?? 'playbook',
    rejected: alert.rejected,
    ...(alert.incidentArmId ? { incidentArmId: alert.incidentArmId } : {}),
    ...(alert.incidentUrl ? { incidentUrl: alert.incidentUrl } : {}),
    ...(alert.incidentNumber === undefined ? {} : { incidentNumber: alert.incidentNumber }),
    ...(alert.alertId ? { alertId: alert.alertId } : {}),
    ...(alert.workspace ? { workspace: alert.workspace } : {}),
    ...(alert.targets.length === 0 ? { note: 'No entity identifies an Entra identity; see rejected entities.' } : {}),
  };
  try {
    await deps.cases.create(record, targets, rawBody);
  } catch (err) {
    // The same alert posted twice at once: the other request claimed the key first and created the case
    // between our claim and our create. Answer as a repeat instead of a 500.
    if (!claim.claimed && isConflict(err) && (await deps.cases.getCase(caseId))) {
      return { status: 200, caseId, enqueue: false, added: 0, joined };
    }
    throw err;
  }
  await deps.audit.write({ action: 'intake.accepted', scope: caseId, actor: record.requestedBy, result: 'ok', detail: `${alert.dedupeKey}: ${usable} target(s), ${joined} joined, ${alert.rejected.length} entity(ies) rejected` });
  return { status: alert.targets.length === 0 ? 422 : 202, caseId, enqueue: usable > 0, added: targets.length, joined };
}

/** The open case already handling `key`, or undefined after claiming the key for `caseId`. */
async function openCaseOf(deps: IntakeDeps, key: string, caseId: string): Promise<string | undefined> {
  const claim = await deps.keys.claim(OPEN_TARGET, key, caseId);
  if (claim.claimed || claim.value === caseId) {
    return undefined;
  }
  const other = await deps.cases.load(claim.value);
  if (!other) {
    // Claimed a moment ago by an intake still writing its case: join it. An older claim whose case never
    // appeared belongs to an intake that failed; its caller's retry re-creates that case, so take over.
    if (claim.at !== undefined && deps.now() - Date.parse(claim.at) < IN_FLIGHT_MS) {
      return claim.value;
    }
  } else {
    const handled = other.targets.find((t) => t.key === key);
    if (handled && HANDLED.has(handled.status) && other.record.status !== 'suspicious') {
      return claim.value;
    }
  }
  // The other case is gone or done with the target: take over, unless a concurrent intake just did.
  if (await deps.keys.takeOver(OPEN_TARGET, key, caseId, claim.etag)) {
    return undefined;
  }
  const winner = await deps.keys.get(OPEN_TARGET, key);
  return winner === undefined || winner === caseId ? undefined : winner;
}

/** Lets the next alert about `key` start a new containment (after a release). */
export async function closeOpenTarget(keys: KeyStore, key: string): Promise<void> {
  await keys.release(OPEN_TARGET, key);
}
