import { mapLimit } from '../async/map-limit';
import type { TargetRecord } from '../store/case-model';
import type { CaseSession } from './case-session';
import { blastSlotOf, freeBlastSlots, type BlastRadiusDeps } from './guardrails';
import { identityOf, releaseOwnership, type OwnershipDeps } from './ownership';
import { TARGET_CONCURRENCY } from './target-concurrency';

export type GiveBackDeps = OwnershipDeps & Pick<BlastRadiusDeps, 'keys' | 'now'>;

/** Outcomes of a target refused before admission: it acts on nothing. */
const REFUSED_BEFORE_ADMISSION: ReadonlySet<TargetRecord['status']> = new Set(['unverified', 'not-found', 'skipped']);
/** States of a target through which its case may hold (or be about to take) its identity. */
const MAY_HOLD_IDENTITY: ReadonlySet<TargetRecord['status']> = new Set(['pending', 'held', 'waiting', 'contained']);

/**
 * Gives back the identity of each target refused before admission (at the source, not found, skipped) when its case
 * holds the identity through that target alone, and the target's blast-radius slot: a forged target must not keep the
 * victim from every later case, nor spend a slot of the hour. A run gives back its own fresh claims itself; this
 * covers what an earlier run took and left (it met another run's lease, or died: its retry's claim is not fresh).
 *
 * Every refused target, not only those refused in the calling run: the refusal is stored before its give-back (below),
 * so when storage fails the give-back, only a later run, or the poison handler, can finish it. The price is an
 * ownership read per refused target and a read of the blast-radius partition in every run of such a case (a
 * give-back done is not written down).
 */
export async function giveBackRefused(deps: GiveBackDeps, session: CaseSession, fence: () => Promise<void>): Promise<void> {
  const targets = [...session.targets.values()];
  const refused = targets.filter((t) => t.admittedAt === undefined && REFUSED_BEFORE_ADMISSION.has(t.status));
  if (refused.length === 0) {
    return;
  }
  // The refusals are stored first, through the lease: a run that lost its lease (it stalled on a read, and the run
  // that took the case over may have admitted these targets on a later read) must give back nothing, or it would
  // release an identity and free a slot that run acts on. Its write fails with LeaseLostError instead.
  await fence();
  await Promise.all([
    mapLimit(refused, TARGET_CONCURRENCY, async (t) => {
      const identity = identityOf(t);
      // Another target of the case naming the same identity keeps it only while it may act on it: one that ended
      // (skipped, refused, failed, released...) must not let a forged target keep the victim.
      if (identity && !targets.some((o) => o.key !== t.key && identityOf(o) === identity && MAY_HOLD_IDENTITY.has(o.status))) {
        await releaseOwnership(deps, identity, session.caseId, t.status);
      }
    }),
    // A forged post must not spend the blast radius of the hour, whichever of the case's runs took the slot.
    freeBlastSlots(deps, refused.map((t) => blastSlotOf(session.caseId, t))),
  ]);
}
