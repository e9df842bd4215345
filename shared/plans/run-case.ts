import { mapLimit } from '../async/map-limit';
import { nextTurn } from '../async/next-turn';
import type { Config } from '../config';
import { EmergencyStopError, type EmergencyStop, type StopState } from '../control/emergency-stop';
import type { Logger } from '../logger';
import type { AuditLog } from '../store/audit-log';
import type { CaseHint, CaseMessage } from '../store/case-queue';
import { stepId, type CaseRecord, type TargetPlan, type TargetRecord } from '../store/case-model';
import { storedText, type CaseStore } from '../store/case-store';
import type { DirectoryObject } from '../graph/identity-kind';
import type { ClaimResult } from '../store/identity-owners';
import { IdentityOwners } from '../store/identity-owners';
import { keyOf } from '../store/storage-key';
import { admitTarget, overridesContainedOf, type AdmitDeps, type EarlyClaims } from './admit-target';
import { applyApproval, type ApplyApprovalDeps } from './apply-approval';
import { CaseLease, LeaseLostError } from './case-lease';
import { CaseSession } from './case-session';
import { caseStatus } from './case-status';
import { giveBackRefused } from './give-back-refused';
import { settleOwnership } from './settle-ownership';
import { blastSlotOf, freeBlastSlot, readBlastSlots, takeBlastSlot } from './guardrails';
import { identityOf, keepContained, overridesContainment, releaseOwnership } from './ownership';
import type { Planner, PrepareResult } from './planner';
import { prepareRecordOf, type ReadAhead } from './read-ahead';
import { reportCase, type ReportDeps } from './report-case';
import { isFinished, isTransient, runPlanSteps, type StepRunContext } from './run-plan-steps';
import { trackCaseOutcome } from './engine-telemetry';
import { TARGET_CONCURRENCY } from './target-concurrency';

export interface Invocation {
  id: string;
  log: Logger;
}

export type EngineDeps = AdmitDeps &
  ApplyApprovalDeps &
  ReportDeps & {
    cases: CaseStore;
    stop: EmergencyStop;
    audit: AuditLog;
    responderId: () => Promise<string | undefined>;
    /** Reads the intake of this process sent for a case before its message arrived. */
    readAhead?: Pick<ReadAhead, 'take'>;
  };

export type Planners = Readonly<Record<TargetPlan, Planner>>;

/** How long a run holds its case without renewing (renewed every third of it while the run lasts). */
export function leaseMsOf(config: Pick<Config, 'CASE_LEASE_SECONDS'>): number {
  return config.CASE_LEASE_SECONDS * 1000;
}

/** Reads and claims started from the queue message's hint, before the case is loaded. */
interface Early extends EarlyClaims {
  prepare: Promise<PrepareResult> | undefined;
  keys: Set<string>;
  stop: Promise<StopState>;
}

/**
 * The one engine every plan runs through. For one case: take its lease and load it once (alongside, the Graph
 * and Sentinel reads of the targets the intake named, and their early claims: see {@link startEarly}); apply a
 * decided approval; re-check targets that wait for another case; prepare (resolve, verify at source), admit
 * (guardrails, severity, ownership, blast radius, approvals), run each target's plan (access cut first), settle
 * the targets' outcomes (releasing their identities), report (ticket, incident comment), and record the case's
 * status. Every write is fenced by the lease; a transient failure is rethrown at the end, so the message is
 * retried and only unfinished work runs again.
 */
export async function runCase(deps: EngineDeps, planners: Planners, message: CaseMessage, inv: Invocation): Promise<CaseRecord | undefined> {
  const early = startEarly(deps, planners, message.caseId, message.hint);
  // The Graph and Sentinel reads leave first; the lease and the load are storage round trips that end long before them.
  await nextTurn();
  const [leased, loaded] = await Promise.allSettled([CaseLease.acquire(deps.cases, message.caseId, inv.id, leaseMsOf(deps.config), deps.now), deps.cases.load(message.caseId)]);
  if (leased.status === 'rejected') {
    await settleEarly(early);
    throw leased.reason;
  }
  const lease = leased.value;
  try {
    if (loaded.status === 'rejected') {
      throw loaded.reason;
    }
    const current = loaded.value && !lease.isCurrent(loaded.value) ? await deps.cases.load(message.caseId) : loaded.value;
    if (!current) {
      await undoEarly(deps, message.caseId, early, new Map());
      inv.log.warn(JSON.stringify({ caseId: message.caseId, msg: 'case not found; message dropped' }));
      return undefined;
    }
    return await runLoaded(deps, planners, new CaseSession(lease, current, deps.now), message, early, inv);
  } finally {
    await lease.release();
  }
}

async function runLoaded(deps: EngineDeps, planners: Planners, session: CaseSession, message: CaseMessage, early: Early, inv: Invocation): Promise<CaseRecord> {
  const caseId = session.caseId;
  const outcome = trackCaseOutcome(session.record);
  const reportOnly = deps.config.RESPONDER_MODE === 'report-only';
  // Taken once, before anything is given back (see CaseSession.fence).
  let fenced: Promise<void> | undefined;
  const fence = (): Promise<void> => (fenced ??= session.fence());
  const stop = await early.stop;
  if (stop.stopped) {
    await undoEarly(deps, caseId, early, session.targets, new Set(), fence);
    await pause(session, stop);
    throw new EmergencyStopError(stop);
  }
  const mode = reportOnly ? 'report-only' : 'enforce';
  const pending = [...session.targets.values()].some((t) => t.status === 'pending');
  if (session.record.mode !== mode || (pending && session.record.status !== 'running') || session.record.status === 'paused') {
    // Said with the run's first write (what the reads found), not in a round trip of its own before them.
    void session.saveRecord(
      (r) => {
        r.mode = mode;
        r.status = 'running';
        if (r.note?.startsWith('Paused')) {
          delete r.note;
        }
      },
      { deferred: true },
    );
  }
  let readmitted: ReadonlySet<string> = new Set();
  try {
    if (message.approvalId) {
      await applyApproval(deps, session, message.approvalId);
    }
    if (!reportOnly) {
      await recheckOwnership(deps, planners, session);
      readmitted = readmitUnstarted(planners, session);
    }
    await prepareTargets(deps, planners, session, early, inv);
  } catch (err) {
    // A failed read (the intake's read-ahead or the run's own) ends the run before anything is admitted in it: what it
    // took early is given back, or a target its retry refuses at the source would keep the identity and the slot (the
    // retry's claims are not fresh). The retry claims again what it acts on. Not with the lease lost: the run that
    // holds it now may be using these claims.
    if (!(err instanceof LeaseLostError)) {
      await undoEarly(deps, caseId, early, session.targets, new Set(), fence).catch(() => undefined);
    }
    throw err;
  }

  const responderId = await deps.responderId().catch(() => undefined);
  const toAdmit = [...session.targets.values()].filter((t) => t.status === 'pending' && t.admittedAt === undefined && t.kind !== undefined);
  await mapLimit(toAdmit, TARGET_CONCURRENCY, async (t) => {
    const admitted = await admitTarget(deps, { session, planner: planners[t.plan], reportOnly, responderId, early, readmitted: readmitted.has(t.key) }, t);
    audit(deps, session, admitted, admitted.status === 'pending' ? 'admitted' : admitted.status);
    await recordPlan(session, planners[t.plan], admitted, deps.now);
  });
  // A target skipped at admission (severity, guardrails) acts on nothing: what it took early is given back like what
  // a target that was never admitted took.
  await undoEarly(deps, caseId, early, session.targets, new Set(toAdmit.filter((t) => session.targets.get(t.key)?.status !== 'skipped').map((t) => t.key)), fence);
  // In report-only too: a run of this case before a switch from enforce may have claimed what this run refuses.
  await giveBackRefused(deps, session, fence);

  const ctx: StepRunContext = { session, stop: deps.stop, reportOnly, now: deps.now };
  const transient: unknown[] = [];
  const collect = (err: unknown): void => {
    if (!isTransient(err)) {
      throw err;
    }
    transient.push(err);
  };
  const running = [...session.targets.values()].filter((t) => t.status === 'pending' && t.admittedAt !== undefined);
  await mapLimit(running, TARGET_CONCURRENCY, (t) => runPlanSteps(ctx, t, planners[t.plan].steps(t, session.record)).catch(collect));
  await settleOutcomes(deps, planners, session, reportOnly);
  if (message.settleOwnership) {
    await settleOwnership(deps, session, fence);
  }

  if (![...session.targets.values()].some((t) => t.status === 'pending') && transient.length === 0) {
    await reportCase(deps, ctx).catch(collect);
  }
  const stopped = transient.find((e): e is EmergencyStopError => e instanceof EmergencyStopError);
  if (stopped) {
    await pause(session, stopped.state);
  } else {
    await session.settled();
    const status = caseStatus({ targets: [...session.targets.values()], steps: [...session.steps.values()] });
    // Stored with the lease given back (runCase releases it), in the same transaction.
    void session.saveRecord(
      (r) => {
        r.status = status;
      },
      { deferred: true },
    );
  }
  outcome.settled(session.record);
  inv.log.info(JSON.stringify({ caseId, status: session.record.status, mode, targets: [...session.targets.values()].map((t) => ({ key: t.key, plan: t.plan, status: t.status })) }));
  if (transient.length > 0) {
    throw transient[0];
  }
  return session.record;
}

/**
 * Shows the plan of a target that does not run now: its steps `held` (with the approval they wait for) or
 * `skipped` (with the reason), so the case says what would happen once approved, or what was not done and why.
 */
async function recordPlan(session: CaseSession, planner: Planner, target: TargetRecord, now: () => number): Promise<void> {
  // A release refused at admission leaves its target contained: its steps, one a retry may have left pending, were not done.
  const refusedRelease = target.plan === 'release' && target.status === 'contained';
  const state = target.status === 'held' ? 'held' : target.status === 'skipped' || refusedRelease ? 'skipped' : undefined;
  if (!state) {
    return;
  }
  const at = new Date(now()).toISOString();
  await Promise.all(
    planner.steps(target, session.record).map(async (step) => {
      const id = stepId(target.key, target.round, step.action);
      if (isFinished(session.steps.get(id))) {
        return;
      }
      await session.saveStep({
        stepId: id,
        targetKey: target.key,
        action: step.action,
        round: target.round,
        description: step.description,
        state,
        attempts: 0,
        requestIds: [],
        ...(state === 'skipped' ? { endedAt: at } : {}),
        ...(target.reason ? { detail: target.reason } : {}),
        ...(target.approvalId ? { approvalId: target.approvalId } : {}),
      });
    }),
  );
}

/** The emergency stop interrupted the case: it says so, and waits in the queue until the stop is lifted. */
async function pause(session: CaseSession, stop: StopState): Promise<void> {
  await session.saveRecord((r) => {
    r.status = 'paused';
    r.note = `Paused by the emergency stop${stop.reason ? ` (${stop.reason})` : ''}${stop.by ? `, set by ${stop.by}` : ''}: nothing is written until it is lifted; the case then resumes.`;
  });
  await session.settled();
}

/**
 * Starts, from the queue message's hint, what the run will need before its first write: the planner's reads
 * (Graph, Sentinel) and, in enforce mode, the ownership claims and blast-radius slots of the identities named by
 * object id. They run beside taking the lease and loading the case, so the access cut waits for one storage round
 * trip and one Graph round trip instead of a chain of them. Everything here is a read or a claim this case may give
 * back; the loaded case decides ({@link undoEarly} gives back what it does not use).
 */
function startEarly(deps: EngineDeps, planners: Planners, caseId: string, hint: CaseHint | undefined): Early {
  const early: Early = { prepare: undefined, claims: new Map(), slots: new Map(), keys: new Set(), stop: deps.stop.state() };
  early.stop.catch(() => undefined);
  if (!hint || hint.targets.length === 0) {
    return early;
  }
  const prepare = planners.contain.prepare?.bind(planners.contain);
  if (prepare) {
    const read = (): Promise<PrepareResult> => prepare(prepareRecordOf(caseId, hint), hint.targets);
    // The intake of this process may have sent these reads already (see ReadAhead); otherwise they leave now.
    early.prepare = deps.readAhead?.take(caseId, hint) ?? read();
  }
  early.prepare?.catch(() => undefined); // awaited in prepareTargets; this only keeps an early failure from counting as unhandled
  hint.targets.forEach((t) => early.keys.add(t.key));
  if (deps.config.RESPONDER_MODE === 'report-only') {
    return early;
  }
  const backed = hint.source !== 'direct' && !(hint.source === 'entity' && !hint.incidentArmId);
  const at = new Date(deps.now()).toISOString();
  for (const t of hint.targets) {
    if (t.ref.by !== 'objectId') {
      continue;
    }
    const identity = IdentityOwners.identityOf(t.ref.objectId);
    const turn = nextTurn();
    const claim = turn.then(() => deps.owners.claim(identity, caseId, backed ? 'acting' : 'held', backed, at));
    claim.catch(() => undefined);
    early.claims.set(identity, claim);
    if (backed) {
      // Taken after the claim, not beside it: only an identity this case owns can be cut in this run, so a case that
      // joins or waits for another (most cases of a storm) never writes the blast-radius partition. The slots are
      // read beside the claim when the claim will probably own the identity (this instance has not seen its record),
      // so the take is one round trip after it; both run beside the Graph reads.
      const slot = blastSlotOf(caseId, { key: t.key, round: 0 });
      const slots = deps.owners.seenStored(identity) ? undefined : turn.then(() => readBlastSlots(deps));
      slots?.catch(() => undefined);
      const taken = claim.then(async (c) => (c.owned ? { hold: await takeBlastSlot(deps, slot, slots) } : undefined));
      taken.catch(() => undefined);
      early.slots.set(slot, taken);
    }
  }
  return early;
}

/** Waits for early work that is no longer needed (the case was busy), so none of it runs unobserved. */
async function settleEarly(early: Early): Promise<void> {
  await Promise.allSettled([early.prepare, early.stop, ...early.claims.values(), ...early.slots.values()]);
}

/**
 * Gives back early claims and slots the run did not use: identities claimed afresh for targets that were not
 * admitted in this run (already handled, refused at the source, skipped, or not on the case at all), and slots of
 * hinted targets that were neither admitted in this run nor before (a target refused at the source must not spend
 * the blast radius: a forged post could otherwise exhaust it). Admission itself frees the slots of targets it held
 * or left waiting. `fence` is taken before the first thing is given back: a run whose lease another run took over
 * gives back nothing (that run may be acting on these claims).
 */
async function undoEarly(
  deps: EngineDeps,
  caseId: string,
  early: Early,
  targets: ReadonlyMap<string, TargetRecord>,
  admittedNow: ReadonlySet<string> = new Set(),
  fence: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  await settleEarly(early);
  // Every target of the identity: a case may name one identity several ways (by object id, UPN, appId), and a claim
  // one of them was admitted with now is kept whatever the others ended as.
  const byIdentity = new Map<string, TargetRecord[]>();
  for (const t of targets.values()) {
    const identity = identityOf(t);
    if (identity) {
      byIdentity.set(identity, [...(byIdentity.get(identity) ?? []), t]);
    }
  }
  await Promise.all([
    ...[...early.claims].map(async ([identity, claim]) => {
      const result: ClaimResult | undefined = await claim.catch(() => undefined);
      const named = byIdentity.get(identity) ?? [];
      if (result?.owned && result.fresh && !named.some((t) => admittedNow.has(t.key))) {
        await fence();
        await releaseOwnership(deps, identity, caseId, named[0]?.status ?? 'not-on-case');
      }
    }),
    ...[...early.keys].map(async (key) => {
      const slot = blastSlotOf(caseId, { key, round: 0 });
      const target = targets.get(key);
      const unused = !target || (target.admittedAt === undefined && !admittedNow.has(key));
      if (unused && (await early.slots.get(slot)?.catch(() => undefined)) !== undefined) {
        await fence();
        await freeBlastSlot(deps, slot);
      }
    }),
  ]);
  early.claims.clear();
  early.slots.clear();
}

/**
 * A target an earlier run admitted whose plan's first step (the access cut, the re-enable) has not been done yet (that
 * run was retried, stopped or lost) is admitted again, on this run's settings: an identity the operator listed in
 * PROTECTED_IDENTITIES or REQUIRE_APPROVAL_IDENTITIES since (or a severity gate raised, people no longer contained)
 * must not be acted on by the retry. Its claim and slot are its case's already, so admission finds them; refused, it
 * gives them back (a release keeps the identity contained).
 */
function readmitUnstarted(planners: Planners, session: CaseSession): Set<string> {
  const readmitted = new Set<string>();
  for (const t of session.targets.values()) {
    const [first] = planners[t.plan].steps(t, session.record);
    if (t.status === 'pending' && t.admittedAt !== undefined && first && !isFinished(session.steps.get(stepId(t.key, t.round, first.action)))) {
      // In memory only: admission stores the target again, whatever it decides.
      const next: TargetRecord = { ...t };
      delete next.admittedAt;
      session.targets.set(t.key, next);
      readmitted.add(t.key);
    }
  }
  return readmitted;
}

/**
 * Targets that wait for another case go back to work when that case released the identity (or end `joined` when
 * it contained it); a hold this case had on an identity that a verified case took over becomes a wait.
 */
async function recheckOwnership(deps: EngineDeps, planners: Planners, session: CaseSession): Promise<void> {
  // Holds of plans that cut no access claim nothing (see admit-target), so only access-cutting holds can be taken over.
  const candidates = [...session.targets.values()].filter((t) => (t.status === 'waiting' || (t.status === 'held' && planners[t.plan].cutsAccess)) && identityOf(t) !== undefined);
  await Promise.all(
    candidates.map(async (t) => {
      const owner = (await deps.owners.get(identityOf(t) ?? ''))?.value;
      if (t.status === 'held') {
        if (owner?.caseId !== undefined && owner.caseId !== session.caseId) {
          await session.saveTarget({ ...t, status: 'waiting', joinedCaseId: owner.caseId, reason: `Case ${owner.caseId}, which Sentinel backs, acts on this identity now; this hold waits for it (its approval no longer decides anything).` });
        }
        return;
      }
      const otherOwner = owner?.caseId !== undefined && owner.caseId !== session.caseId;
      // As at admission: a read of "enabled" sent after that containment (or a plan that supersedes it) takes the
      // identity over once admitted again; otherwise the containment covers this target.
      const overrides = otherOwner && owner?.state === 'contained' && overridesContainment(overridesContainedOf(planners[t.plan], session.record, t), owner.last?.at);
      if (otherOwner && owner?.state === 'contained' && !overrides) {
        await session.saveTarget({ ...t, status: 'joined', joinedCaseId: owner.caseId, reason: `Contained by case ${owner.caseId} while this case waited.` });
        audit(deps, session, t, 'joined');
        return;
      }
      if (otherOwner && !overrides) {
        return; // still in the owner's waiters: it queues this case again when it is done
      }
      const last = owner?.last;
      if (!overrides && last && last.caseId === t.joinedCaseId && last.outcome === 'contained' && (t.plan === 'contain' || t.plan === 'expire')) {
        await session.saveTarget({ ...t, status: 'joined', reason: `Contained by case ${last.caseId} while this case waited.` });
        audit(deps, session, t, 'joined');
        return;
      }
      const next: TargetRecord = { ...t, status: 'pending' };
      delete next.admittedAt;
      delete next.reason;
      await session.saveTarget(next);
    }),
  );
}

/**
 * The planners' reads (resolve, verify at source) for targets not yet resolved or verified, reusing what the
 * early reads found for the hinted ones. A refused target is refused on its own (the rest of the case goes on);
 * Sentinel's own copy is kept beside the posted body when something is refused as suspicious.
 */
async function prepareTargets(deps: EngineDeps, planners: Planners, session: CaseSession, early: Early, inv: Invocation): Promise<void> {
  const need = [...session.targets.values()].filter((t) => t.status === 'pending' && t.admittedAt === undefined && planners[t.plan].prepare && (t.kind === undefined || t.verification === undefined));
  if (need.length === 0) {
    return;
  }
  const fromEarly = early.prepare ? await early.prepare : undefined;
  const uncovered = need.filter((t) => !fromEarly?.byKey.has(t.key) || !early.keys.has(t.key));
  const planner = planners.contain;
  const more = uncovered.length > 0 && planner.prepare ? await planner.prepare({ ...session.record, ...(session.record.workspace?.customerId ? { workspaceCustomerId: session.record.workspace.customerId } : {}), receivedAt: session.record.createdAt }, uncovered) : undefined;
  const severity = more?.severity ?? fromEarly?.severity;
  if ((more?.incidentMissing ?? fromEarly?.incidentMissing) && !session.record.incidentMissing) {
    void session.saveRecord(
      (r) => {
        r.incidentMissing = true;
      },
      { deferred: true },
    );
  }
  const copy = more?.sourceCopy ?? fromEarly?.sourceCopy;
  let suspicious = 0;
  for (const t of need) {
    const fromMore = more?.byKey.get(t.key);
    const prep = fromMore ?? fromEarly?.byKey.get(t.key);
    if (!prep) {
      continue;
    }
    // When the read that found it was sent (see PrepareResult.readAt), not now.
    const readAt = (fromMore ? more?.readAt : fromEarly?.readAt) ?? deps.now();
    const next: TargetRecord = { ...t };
    const verdict = prep.verdict;
    if (verdict?.state === 'refused') {
      Object.assign(next, { status: 'unverified', reason: verdict.detail, verification: verdict });
      suspicious += verdict.suspicious ? 1 : 0;
    } else {
      if (verdict) {
        next.verification = verdict;
      }
      if (verdict?.state === 'skipped' && session.record.source !== 'drift' && session.record.source !== 'lifecycle') {
        // Acting on a body without reading it back is a deliberate weakening: say so every time.
        inv.log.warn(JSON.stringify({ caseId: session.caseId, target: t.key, msg: 'SENTINEL VERIFICATION SKIPPED: acting on the posted body alone', detail: verdict.detail }));
      }
      applyResolution(next, prep.resolved, new Date(readAt).toISOString());
    }
    // Not awaited: what the reads found is in the session at once (admission reads it there), and the row rides
    // with the run's next write (the admission) or with the lease's release, whose failure the run sees. A run that
    // dies before it lands reads the target again on its retry.
    void session.saveTarget(next, { deferred: true });
    if (next.status !== 'pending') {
      audit(deps, session, next, next.status);
    }
  }
  if (severity && session.record.verifiedSeverity !== severity) {
    void session.saveRecord(
      (r) => {
        r.verifiedSeverity = severity;
      },
      { deferred: true },
    );
  }
  if (suspicious > 0) {
    // Both versions are kept for the analyst: what was posted (alert-bodies/{case}/body-…) and what Sentinel holds.
    // Written beside the run: the refused targets wait for nothing, and the others must not wait for them.
    const text = JSON.stringify(copy ?? null, null, 1);
    void session.track(
      deps.cases.putBlob(session.caseId, `sentinel-copy-${keyOf(text).slice(0, 16)}`, text).then((blob) =>
        session.saveRecord((r) => {
          r.note = `SUSPICIOUS: ${suspicious} target(s) refused, the posted body disagrees with Sentinel. Nothing was done to them. Posted bodies: alert-bodies/${session.caseId}/body-*.json; Sentinel's copy: alert-bodies/${blob}.`;
        }),
      ),
    );
    inv.log.warn(JSON.stringify({ caseId: session.caseId, msg: 'refused targets Sentinel does not back', suspicious }));
  }
}

function applyResolution(target: TargetRecord, resolved: DirectoryObject | null | undefined, at: string): void {
  if (resolved === undefined) {
    return;
  }
  if (resolved === null) {
    Object.assign(target, { status: 'not-found', reason: 'No such identity in the tenant (deleted, or the alert named another tenant)', resolvedAt: at });
    return;
  }
  const obj = resolved;
  Object.assign(target, { objectId: obj.id, kind: obj.kind, resolvedAt: at });
  const name = obj.displayName ?? obj.userPrincipalName;
  if (name !== undefined) {
    target.displayName = storedText(name, 256);
  }
  for (const k of ['appId', 'appOwnerOrganizationId', 'agentIdentityBlueprintId'] as const) {
    if (obj[k] !== undefined) {
      target[k] = obj[k];
    }
  }
  if (obj.accountEnabled !== undefined) {
    target.accountEnabled = obj.accountEnabled;
  }
  if (obj.kind === 'other') {
    Object.assign(target, { status: 'skipped', reason: `Object is a ${obj.odataType || 'directory object'}, not an identity the responders act on` });
  }
}

/**
 * Targets whose plan finished: their outcome from their steps (failed if any step failed), and the identity
 * released, with the outcome, for the cases that wait for it.
 */
async function settleOutcomes(deps: EngineDeps, planners: Planners, session: CaseSession, reportOnly: boolean): Promise<void> {
  const finished = [...session.targets.values()].filter((t) => t.status === 'pending' && t.admittedAt !== undefined);
  await Promise.all(
    finished.map(async (t) => {
      const planner = planners[t.plan];
      const steps = planner.steps(t, session.record).map((s) => session.steps.get(stepId(t.key, t.round, s.action)));
      if (steps.some((s) => !isFinished(s))) {
        return;
      }
      const failed = steps.find((s) => s?.state === 'failed');
      // A run of this case before a switch to report-only may have taken the plan's first step (the disable, the
      // re-enable): the identity is as that step left it, and the target must say so (the drift check watches
      // `contained` targets), whatever the later steps were.
      const performed = steps[0]?.state === 'done';
      const reason = planner.outcome.reason(t, session.record);
      const ended: Pick<TargetRecord, 'status' | 'reason'> = !reportOnly
        ? { status: planner.outcome.done, reason }
        : performed
          ? { status: planner.outcome.done, reason: `${reason} (Switched to report-only since: the steps left were not executed.)` }
          : { status: planner.outcome.reportOnly, reason: `Report-only: ${reason}` };
      const next: TargetRecord = failed ? { ...t, status: 'failed', reason: `${failed.action} failed: ${failed.errorCode ?? ''} ${failed.errorMessage ?? ''}`.trim() } : { ...t, ...ended };
      const identity = identityOf(next);
      if (identity) {
        // A contained identity stays with this case (later alerts about it are covered by it); any other end
        // gives it up for the next alert. In report-only too: a run of this case before a switch from enforce may have
        // claimed it (report-only claims nothing, so the release is then a no-op). Before the outcome is stored: when
        // this write fails, the target is still unsettled and the retry makes it; stored first, the retry would skip
        // the target and leave its identity with a finished case. Not fenced by the lease: the outcome follows from the
        // steps stored under it, so a run that lost the lease since writes what the run that took over writes.
        await (next.status === 'contained' ? keepContained(deps, identity, session.caseId) : releaseOwnership(deps, identity, session.caseId, next.status));
      }
      await session.saveTarget(next);
      audit(deps, session, next, next.status);
    }),
  );
}

/** Audits a target's new state; written beside the run and awaited with the case's writes. */
function audit(deps: EngineDeps, session: CaseSession, target: TargetRecord, what: string): void {
  const write = deps.audit.write({
    action: `target.${what}`,
    scope: session.caseId,
    actor: 'system',
    targetId: target.objectId ?? target.key,
    result: what === 'failed' ? 'failed' : what.startsWith('would') ? 'would-do' : what === 'unverified' || what === 'skipped' ? 'refused' : 'ok',
    detail: storedText(target.reason ?? what, 500),
  });
  void session.track(write);
}
