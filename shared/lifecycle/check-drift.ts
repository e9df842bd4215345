import { enqueueCase } from '../store/case-queue';
import { deterministicGuid } from '../store/deterministic-guid';
import type { Config } from '../config';
import { ensureError } from '../errors';
import { readAccountStates } from '../graph/account-states';
import type { Graph } from '../graph/graph-client';
import { KIND_LABEL } from '../graph/identity-kind';
import { canDisable } from '../graph/service-principals';
import type { Logger } from '../logger';
import type { AuditLog } from '../store/audit-log';
import type { CaseStore } from '../store/case-store';
import type { CaseRecord, TargetRecord } from '../store/case-model';
import type { Storage } from '../store/storage';
import { withCase } from '../plans/with-case';

export interface DriftDeps {
  config: Pick<Config, 'RESPONDER_MODE' | 'CASE_LEASE_SECONDS'>;
  graph: Graph;
  cases: CaseStore;
  audit: AuditLog;
  storage: Storage;
  now: () => number;
}

export interface DriftSummary {
  /** Contained targets whose state was read. */
  checked: number;
  reEnabled: number;
  /** New cases opened (or, in report-only mode, that would be). */
  casesOpened: number;
  /** Deleted since they were contained. */
  gone: number;
  errors: number;
}

export const DRIFT_AUDIT_SCOPE = 'drift-checks';

/**
 * The drift check: every target contained (and not released through an approval) is re-read from Graph
 * (`$batch`, 20 reads a call). One found enabled again was re-enabled outside the release process: a new
 * case contains it again (same kind of plan as the original, with a ticket, and a comment on the original
 * incident when there was one), and the original target points at that case, so one re-enable gives one
 * new case however often the check runs.
 */
export async function checkDrift(deps: DriftDeps, log: Logger): Promise<DriftSummary> {
  const summary: DriftSummary = { checked: 0, reEnabled: 0, casesOpened: 0, gone: 0, errors: 0 };
  const contained = (await deps.cases.targetsWithStatus('contained')).filter(({ target }) => target.objectId !== undefined && canDisable(target.kind ?? 'other'));
  summary.checked = contained.length;
  if (contained.length > 0) {
    const { states, errors } = await readAccountStates(
      deps.graph,
      contained.map(({ target }) => target.objectId ?? ''),
    );
    summary.errors += errors.size;
    for (const { caseId, target } of contained) {
      const state = states.get(target.objectId ?? '');
      if (state === 'gone') {
        summary.gone++;
      } else if (state === true) {
        summary.reEnabled++;
        try {
          if (await recontain(deps, caseId, target, log)) {
            summary.casesOpened++;
          }
        } catch (err) {
          summary.errors++;
          log.error(JSON.stringify({ caseId, target: target.key, msg: 'drift case not opened', error: ensureError(err).message }));
        }
      }
    }
  }
  await deps.audit.write({ action: 'drift.check', scope: DRIFT_AUDIT_SCOPE, actor: 'system', result: summary.errors > 0 ? 'failed' : 'ok', detail: JSON.stringify(summary) });
  log.info(JSON.stringify({ driftCheck: summary }));
  return summary;
}

async function recontain(deps: DriftDeps, caseId: string, target: TargetRecord, log: Logger): Promise<boolean> {
  const original = await deps.cases.getCase(caseId);
  if (!original) {
    return false;
  }
  const reportOnly = deps.config.RESPONDER_MODE === 'report-only';
  const name = `${KIND_LABEL[target.kind ?? 'other']} "${target.displayName ?? target.objectId ?? target.key}"`;
  if (reportOnly) {
    await deps.audit.write({ action: 'drift.detected', scope: caseId, actor: 'system', targetId: target.objectId ?? target.key, result: 'would-do', detail: `report-only: ${name} is enabled again; would open a case to contain it again` });
    return true;
  }
  // The new case's id is derived from the original case, target and round: a crash or an overlapping check finds it.
  const dedupeKey = `drift|${caseId}|${target.key}|${target.round}`;
  const newCaseId = deterministicGuid(dedupeKey);
  const at = new Date(deps.now()).toISOString();
  const record: CaseRecord = {
    caseId: newCaseId,
    kind: original.kind,
    source: 'drift',
    createdAt: at,
    updatedAt: at,
    status: 'received',
    mode: deps.config.RESPONDER_MODE,
    title: `Re-enabled outside the release process: ${name} (contained by case ${caseId})`,
    severity: 'High',
    dedupeKey,
    requestedBy: 'system',
    rejected: [],
    relatedCaseId: caseId,
    note: `Drift: found enabled at ${at} although case ${caseId} contained it and no release was approved.`,
    ...(original.endDate ? { endDate: original.endDate } : {}),
    ...(original.incidentArmId ? { incidentArmId: original.incidentArmId } : {}),
    ...(original.workspace ? { workspace: original.workspace } : {}),
  };
  const fresh: TargetRecord = { key: target.key, ref: target.ref, plan: target.plan === 'expire' ? 'expire' : 'contain', round: 0, status: 'pending', receivedAt: at, resolvedAt: at, verification: { state: 'skipped', detail: 'raised by the responder itself (drift check)' } };
  for (const k of ['objectId', 'kind', 'displayName', 'appId', 'appOwnerOrganizationId', 'agentIdentityBlueprintId'] as const) {
    if (target[k] !== undefined) {
      Object.assign(fresh, { [k]: target[k] });
    }
  }
  await deps.cases.create(record, [fresh]);
  await enqueueCase(deps.storage, { caseId: newCaseId });
  // The original target now points at the new case, so one re-enable gives one new case however often this runs.
  const marked = await withCase(deps, caseId, `drift-check:${newCaseId}`, async (session) => {
    const current = session.targets.get(target.key);
    if (current?.status === 'contained' && current.round === target.round) {
      await session.saveTarget({ ...current, status: 'joined', joinedCaseId: newCaseId, reason: `Re-enabled outside the release process (found ${at}); contained again by case ${newCaseId}.` });
    }
  });
  await deps.audit.write({ action: 'drift.detected', scope: caseId, actor: 'system', targetId: target.objectId ?? target.key, result: 'ok', detail: `${name} is enabled again; case ${newCaseId} contains it again${marked === 'busy' ? ' (the original case was busy; marked on a later check)' : ''}` });
  log.warn(JSON.stringify({ caseId, target: target.key, newCaseId, msg: 'drift: re-enabled outside the release process' }));
  return true;
}
