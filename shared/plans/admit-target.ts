import { requestApproval, type ApprovalDeps } from '../approvals/request-approval';
import { requesterOf } from '../approvals/requester-of';
import { isUnverifiable, type CaseRecord, type CaseSource, type TargetRecord } from '../store/case-model';
import { kindFacts } from '../graph/identity-kinds';
import type { ClaimResult } from '../store/identity-owners';
import type { CaseSession, Deferrable } from './case-session';
import { belowMinimumSeverity, blastSlotOf, checkGuardrails, freeBlastSlot, takeBlastSlot, type BlastRadiusDeps } from './guardrails';
import { identityOf, keepContained, releaseOwnership, takeOwnership, type OwnershipDeps, type OwnershipIntent } from './ownership';
import type { Planner } from './planner';

export type AdmitDeps = ApprovalDeps & OwnershipDeps & BlastRadiusDeps;

/** Work started before the case was loaded (see run-case), reused here instead of repeated. */
export interface EarlyClaims {
  claims: Map<string, Promise<ClaimResult>>;
  /**
   * Blast-radius slots taken early, by slot: the hold reason when the limit was reached (`hold`), or undefined when
   * none was taken (the identity was not this case's to act on when it claimed it).
   */
  slots: Map<string, Promise<{ hold: string | undefined } | undefined>>;
}

export interface AdmitContext {
  session: CaseSession;
  planner: Planner;
  reportOnly: boolean;
  responderId: string | undefined;
  early: EarlyClaims | undefined;
  /** An earlier run admitted the target and its plan's first step has not been seen done (see run-case). */
  readmitted?: boolean;
}

/** Sources whose severity Sentinel sets: only those are gated by MIN_INCIDENT_SEVERITY. */
const SENTINEL_SOURCES: ReadonlySet<CaseSource> = new Set(['incident', 'alert', 'entity', 'direct']);

/**
 * When a target may take its identity from a case that keeps it contained (see `takeOwnership`): an identity Graph
 * says is enabled again, or one the drift check found so, is contained again; an account that signs in has its
 * sessions revoked again (new sessions may exist); a deletion goes further. The same rule when a waiting target wakes.
 */
export function overridesContainedOf(planner: Pick<Planner, 'supersedesContainment'>, record: Pick<CaseRecord, 'source'>, target: TargetRecord): OwnershipIntent['overridesContained'] {
  if (planner.supersedesContainment || record.source === 'drift' || kindFacts(target.kind).cut === 'revoke-sessions') {
    return 'always';
  }
  return target.accountEnabled === true && target.resolvedAt ? { enabledAt: target.resolvedAt } : 'never';
}

/**
 * Admits a resolved, verified target before any write, in order: the severity gate, the guardrails (skips are
 * final, holds wait for an approver), the plan's own hold, ownership of the identity (act, wait for the case
 * that owns it, or — for a release — give up), and the blast-radius limit. Ends with the target `pending` and
 * admitted, `held` with an approval someone can act on, `waiting` for another case, or `skipped` with a reason.
 */
export async function admitTarget(deps: AdmitDeps, ctx: AdmitContext, target: TargetRecord): Promise<TargetRecord> {
  const { session, planner } = ctx;
  const record = session.record;
  const approved = target.approvedBy !== undefined;
  const skip = (reason: string): Promise<TargetRecord> => save(session, { ...target, status: 'skipped', reason });

  const lowSeverity = planner.plan === 'contain' && SENTINEL_SOURCES.has(record.source) ? belowMinimumSeverity(record.verifiedSeverity ?? record.severity, deps.config.MIN_INCIDENT_SEVERITY) : undefined;
  if (lowSeverity) {
    return skip(lowSeverity);
  }
  const verdict = checkGuardrails({ target, responderId: ctx.responderId, config: deps.config, unverifiable: isUnverifiable(target), approved });
  if (verdict.action === 'skip') {
    if (planner.plan !== 'release') {
      // An earlier run admitted it, and its access cut may have gone through with the answer lost (an idempotent cut is
      // not recorded before it is sent, and a host may die mid-call): the human the refusal hands it to must know.
      const cutBefore = ctx.readmitted === true && planner.cutsAccess;
      return skip(cutBefore ? `${verdict.reason} An earlier run of this case admitted it before the setting changed and may have cut its access already: check the account.` : verdict.reason);
    }
    // A release refused leaves the identity as containment left it: disabled, and owned by this case, which says why.
    // An earlier run of this release (admitted again, see run-case) may have taken it to act on: it is kept contained.
    const identity = identityOf(target);
    if (identity) {
      await keepContained(deps, identity, session.caseId);
    }
    return save(session, { ...target, status: 'contained', reason: `Release not performed: ${verdict.reason}` });
  }
  let hold = verdict.action === 'hold' ? verdict.reason : approved ? undefined : planner.holdReason?.(target, record);
  if (ctx.reportOnly) {
    // Report-only changes nothing and asks nobody: no ownership, no slot, no approval.
    return hold ? save(session, { ...target, status: 'would-hold', reason: `Report-only: in enforce mode this would wait for approval. ${hold}` }) : save(session, { ...target, admittedAt: new Date(deps.now()).toISOString() });
  }

  // A hold of a plan that cuts no access (a deletion waiting for approval) claims nothing: it must not keep the
  // identity from being disabled meanwhile. It claims the identity once approved, when it acts.
  const identity = hold && !planner.cutsAccess ? undefined : identityOf(target);
  const slot = blastSlotOf(session.caseId, target);
  const earlySlot = await ctx.early?.slots.get(slot);
  if (identity) {
    const ownership = await takeOwnership(
      deps,
      identity,
      session.caseId,
      {
        state: hold ? 'held' : 'acting',
        verified: !isUnverifiable(target),
        onConflict: planner.plan === 'release' ? 'refuse' : 'wait',
        overridesContained: overridesContainedOf(planner, record, target),
      },
      await ctx.early?.claims.get(identity),
    );
    if (ownership.result !== 'owned') {
      if (earlySlot) {
        await freeBlastSlot(deps, slot);
      }
      if (planner.plan === 'release') {
        return save(session, { ...target, status: 'contained', reason: `Release not performed: case ${ownership.ownerCaseId} acts on this identity now (a new incident or hold). Ask again once it is done.` });
      }
      // Deferred (rides with the lease given back): both follow from the ownership record alone, so a run that dies
      // before the row lands finds the same on its retry; a storm's joining cases then write their case once.
      return ownership.result === 'covered'
        ? save(session, { ...target, status: 'joined', joinedCaseId: ownership.ownerCaseId, reason: `Already contained by case ${ownership.ownerCaseId} (and still disabled).` }, { deferred: true })
        : save(session, { ...target, status: 'waiting', joinedCaseId: ownership.ownerCaseId, reason: `Case ${ownership.ownerCaseId} acts on this identity now; this case continues when it is done.` }, { deferred: true });
    }
  }
  if (!hold && planner.cutsAccess && !approved) {
    hold = earlySlot ? earlySlot.hold : await takeBlastSlot(deps, slot);
    if (hold && identity) {
      await takeOwnership(deps, identity, session.caseId, { state: 'held', verified: !isUnverifiable(target), onConflict: 'wait', overridesContained: 'never' });
    }
  } else if (earlySlot) {
    await freeBlastSlot(deps, slot); // taken early, before the hold or the approval was known
  }
  if (!hold) {
    const admitted: TargetRecord = { ...target, admittedAt: new Date(deps.now()).toISOString() };
    if (planner.cutsAccess) {
      // The access cut need not wait for this row: it is idempotent by nature, and everything that keeps other cases
      // and workers out is stored already (the ownership record, the blast-radius slot). The session holds the row at
      // once, the write goes out through the lease ahead of the cut's own record, and `settled()` awaits it before the
      // run ends; a run that dies before it lands admits the target again on its retry, and finds its own claims.
      void session.saveTarget(admitted);
      return admitted;
    }
    return save(session, admitted);
  }
  if (!deps.config.PUBLIC_BASE_URL || !deps.config.APPROVAL_SIGNING_KEY) {
    // A hold nobody can approve would be a dead end: refuse it, with the reason on the case and its ticket.
    if (identity) {
      await releaseOwnership(deps, identity, session.caseId, 'skipped');
    }
    return skip(`${hold} Approvals are not configured (PUBLIC_BASE_URL, APPROVAL_SIGNING_KEY), so nobody could approve it: not acted on. A human must handle it.`);
  }
  try {
    // The approval names who asked: the case's verified caller, or the responder itself for its own timers.
    const requestedBy = await requesterOf(deps, record.requestedBy);
    const { approval } = await requestApproval(deps, {
      kind: planner.approvalKind,
      caseId: session.caseId,
      target,
      reason: `${hold} Case reason: ${record.title}`,
      requestedBy,
      requestedByName: requestedBy === record.requestedBy ? `the caller ${record.requestedBy} (the playbook or analyst who raised the case)` : 'agent responders (guardrail or timer)',
      ...(target.round > 0 ? { round: String(target.round) } : {}),
    });
    return await save(session, { ...target, status: 'held', reason: hold, approvalId: approval.id });
  } catch (err) {
    // No approval could be asked for: the identity must not stay claimed by a hold nobody can act on.
    if (identity) {
      await releaseOwnership(deps, identity, session.caseId, 'approval-unavailable');
    }
    throw err;
  }
}

async function save(session: CaseSession, target: TargetRecord, opts: Deferrable = {}): Promise<TargetRecord> {
  const write = session.saveTarget(target, opts);
  if (!opts.deferred) {
    await write; // a deferred write settles with the release, after the run: awaiting it here would wait forever
  }
  return target;
}
