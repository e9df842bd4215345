import { mapLimit } from '../async/map-limit';
import type { TargetRecord } from '../store/case-model';
import type { CaseSession } from './case-session';
import { identityOf, keepContained, releaseOwnership, type OwnershipDeps } from './ownership';
import { TARGET_CONCURRENCY } from './target-concurrency';

/** Target states whose run still decides what the case does with the identity: left alone here. */
const UNDECIDED: ReadonlySet<TargetRecord['status']> = new Set(['pending', 'held', 'waiting']);

/**
 * Writes again what a case's targets mean for the identities it owns: kept contained (and the cases waiting for it
 * woken) when a target contained it, given back when every target naming it ended otherwise. Each ending writes this
 * itself; this repairs a row whose write was lost for good (or that an earlier version left), which would keep every
 * later case about the identity waiting for a case that will never wake it. Recovery asks for it (the `settleOwnership`
 * message) when a case has waited long for a case that is no longer at work. One ownership read per identity named.
 */
export async function settleOwnership(deps: OwnershipDeps, session: CaseSession, fence: () => Promise<void>): Promise<void> {
  const targets = [...session.targets.values()];
  const identities = [...new Set(targets.map(identityOf).filter((id): id is string => id !== undefined))];
  const owned = (await mapLimit(identities, TARGET_CONCURRENCY, async (identity) => ({ identity, row: await deps.owners.get(identity) }))).filter(
    (o) => o.row?.value.caseId === session.caseId,
  );
  if (owned.length === 0) {
    return;
  }
  // Through the lease first, as every give-back: a run that lost it to another run gives back nothing.
  await fence();
  await mapLimit(owned, TARGET_CONCURRENCY, async ({ identity, row }) => {
    const naming = targets.filter((t) => identityOf(t) === identity);
    if (naming.some((t) => UNDECIDED.has(t.status))) {
      return;
    }
    const contained = naming.find((t) => t.status === 'contained');
    if (contained) {
      if (row?.value.state !== 'contained') {
        // Dated when the access was cut, not now: a waiting case's read of "enabled" sent since then still takes over.
        await keepContained(deps, identity, session.caseId, contained.accessCutAt);
      }
      return;
    }
    await releaseOwnership(deps, identity, session.caseId, naming[0]?.status ?? 'not-on-case');
  });
}
