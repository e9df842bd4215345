import { deterministicGuid } from '../store/deterministic-guid';
import { enqueueCase } from '../store/case-queue';
import { KIND_LABEL } from '../graph/identity-kind';
import type { InventoryAgent } from '../graph/agent-inventory';
import type { CaseStore } from '../store/case-store';
import type { CaseRecord, TargetRecord } from '../store/case-model';
import type { Storage } from '../store/storage';
import type { EndOfLife } from './end-of-life';

/** What a lifecycle case does: disable an expired agent, or delete one past its grace period (held for approval). */
export type LifecyclePlan = 'expire' | 'delete';

const PREFIX = 'lifecycle:';
/** A case still `received` this long after it was recorded probably never reached the queue. */
const REQUEUE_AFTER_MS = 10 * 60_000;

/** The case's dedupe key: one case per agent, plan and end date (a new end date is a new lifecycle). */
export function lifecycleCaseKey(plan: LifecyclePlan, objectId: string, date: string): string {
  return `${PREFIX}${plan}|${objectId.toLowerCase()}|${date}`;
}

/** The case target for an inventory agent: resolved already (the inventory gave its kind), nothing to verify. */
export function targetOfAgent(agent: InventoryAgent, at: string, plan: LifecyclePlan = 'expire'): TargetRecord {
  const target: TargetRecord = {
    key: `oid:${agent.id}`,
    ref: { by: 'objectId', objectId: agent.id, ...(agent.displayName ? { name: agent.displayName } : {}) },
    plan,
    round: 0,
    status: 'pending',
    objectId: agent.id,
    kind: agent.kind,
    receivedAt: at,
    resolvedAt: at,
    verification: { state: 'skipped', detail: 'raised by the responder itself (lifecycle sweep)' },
  };
  const optional = { displayName: agent.displayName, appId: agent.appId, appOwnerOrganizationId: agent.appOwnerOrganizationId, agentIdentityBlueprintId: agent.agentIdentityBlueprintId };
  for (const [k, v] of Object.entries(optional)) {
    if (v !== undefined) {
      Object.assign(target, { [k]: v });
    }
  }
  return target;
}

/**
 * Records the case for an agent's lifecycle event, once, and queues it for the responder. The case id is
 * derived from the dedupe key, so the case row itself is the claim: a second sweep (or an overlapping run)
 * finds it instead of making another, and a case recorded but never queued (a crash in between) is queued
 * again by a later sweep.
 */
export async function openLifecycleCase(
  deps: { cases: CaseStore; storage: Storage },
  agent: InventoryAgent,
  plan: LifecyclePlan,
  end: EndOfLife,
  mode: CaseRecord['mode'],
  now: number,
): Promise<'created' | 'existing' | 'requeued'> {
  const dedupeKey = lifecycleCaseKey(plan, agent.id, end.date);
  const caseId = deterministicGuid(dedupeKey);
  const existing = await deps.cases.getCase(caseId);
  if (existing) {
    if (existing.status === 'received' && now - Date.parse(existing.createdAt) > REQUEUE_AFTER_MS) {
      await enqueueCase(deps.storage, { caseId });
      return 'requeued';
    }
    return 'existing';
  }
  const at = new Date(now).toISOString();
  const name = `${KIND_LABEL[agent.kind]} "${agent.displayName ?? agent.id}"`;
  const record: CaseRecord = {
    caseId,
    kind: 'expiry',
    source: 'lifecycle',
    createdAt: at,
    updatedAt: at,
    status: 'received',
    mode,
    title:
      plan === 'expire'
        ? `End of lifecycle reached on ${end.date}: disable ${name}`
        : `Past the grace period after its end of lifecycle (${end.date}): delete ${name}`,
    severity: 'Medium',
    dedupeKey,
    requestedBy: 'system',
    rejected: [],
    endDate: end.date,
    note: `End of lifecycle ${end.date}, read from the ${end.from === 'tag' ? 'expiry tag' : 'custom security attribute'}.`,
  };
  const { created } = await deps.cases.create(record, [targetOfAgent(agent, at, plan)]);
  // An overlapping run recorded it a moment ago and queues it itself; unless the case row is exactly this one: this
  // create was stored and its answer lost (the SDK's retry met it), and nobody else would queue it.
  if (!created && !(await deps.cases.holdsCase(record))) {
    return 'existing';
  }
  await enqueueCase(deps.storage, { caseId });
  return 'created';
}
