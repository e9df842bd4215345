import { enqueueCase } from '../store/case-queue';
import { IdentityOwners, type ClaimResult, type OwnerState } from '../store/identity-owners';
import type { Storage } from '../store/storage';

export interface OwnershipDeps {
  owners: IdentityOwners;
  storage: Storage;
  now: () => number;
}

/** What this case may do with an identity. */
export type Ownership =
  /** It owns the identity: its plan may run (or wait for its approval). */
  | { result: 'owned' }
  /** Another case acts on it now: wait (this case is queued again when that one finishes). */
  | { result: 'wait'; ownerCaseId: string }
  /** Another case keeps it contained already: nothing to do, the target is joined to that case. */
  | { result: 'covered'; ownerCaseId: string }
  /** Another case acts on it now and this plan must not run after it (a release after a new containment). */
  | { result: 'refused'; ownerCaseId: string };

export interface OwnershipIntent {
  state: Exclude<OwnerState, 'contained'>;
  /** Whether Sentinel backs this case's claim. */
  verified: boolean;
  /** What to do when another case owns the identity: wait for it, or give up (a release must not run late). */
  onConflict: 'wait' | 'refuse';
  /**
   * Whether this case may take the identity from a case that keeps it contained: `always` (the drift check found
   * it enabled again; an account whose new sessions need revoking), or `if-enabled-since`: Graph said it was
   * enabled when this case read it, at that time, which counts only if that read came after the containment.
   */
  overridesContained: 'always' | 'never' | { enabledAt: string };
}

/**
 * Takes an identity for a case, or decides what the case does instead. The rules:
 * - nobody owns it (or the previous owner released it): this case owns it;
 * - a case keeps it contained: this case is covered by it (joined), unless the identity is enabled again or this
 *   is the drift check, which take it over;
 * - a hold nobody in Sentinel backs (a direct request waiting for approval) yields to a verified case that acts:
 *   the verified case takes it over and the held case is queued to find it taken (it waits and ends joined);
 * - otherwise this case waits for the owner, registered on the record, so the owner queues it again when done.
 * Every change is conditional on the record's etag, so no release is missed between a read and a write.
 */
export async function takeOwnership(deps: OwnershipDeps, identity: string, caseId: string, intent: OwnershipIntent, early?: ClaimResult): Promise<Ownership> {
  let claimed = early;
  for (;;) {
    const at = new Date(deps.now()).toISOString();
    const claim = claimed ?? (await deps.owners.claim(identity, caseId, intent.state, intent.verified, at));
    claimed = undefined;
    if (claim.owned) {
      if (claim.record.state !== intent.state || claim.record.verified !== intent.verified) {
        await deps.owners.setState(identity, caseId, intent.state, intent.verified);
      }
      return { result: 'owned' };
    }
    const other = claim.record;
    const otherCase = other.caseId ?? '';
    const takesOver = (other.state === 'contained' && overridesContainment(intent.overridesContained, other.last?.at)) || (other.state === 'held' && other.verified === false && intent.verified && intent.state === 'acting');
    if (takesOver) {
      const waiters = other.state === 'held' ? unique([...other.waiters, otherCase]) : other.waiters;
      const taken = await deps.owners.replace(identity, { ...other, caseId, state: intent.state, verified: intent.verified, since: at, waiters }, claim.etag);
      if (taken === undefined) {
        continue;
      }
      if (other.state === 'held') {
        await enqueueCase(deps.storage, { caseId: otherCase });
      }
      return { result: 'owned' };
    }
    if (other.state === 'contained') {
      return { result: 'covered', ownerCaseId: otherCase };
    }
    if (intent.onConflict === 'refuse') {
      return { result: 'refused', ownerCaseId: otherCase };
    }
    if (other.waiters.includes(caseId)) {
      return { result: 'wait', ownerCaseId: otherCase };
    }
    if ((await deps.owners.replace(identity, { ...other, waiters: [...other.waiters, caseId] }, claim.etag)) !== undefined) {
      return { result: 'wait', ownerCaseId: otherCase };
    }
  }
}

/**
 * Gives an identity up once this case can no longer act on it (failed, refused, rejected, expired, released),
 * leaving `outcome` for the cases that waited, and queues them again.
 */
export async function releaseOwnership(deps: OwnershipDeps, identity: string, caseId: string, outcome: string): Promise<void> {
  const waiters = await deps.owners.release(identity, caseId, outcome, new Date(deps.now()).toISOString());
  await Promise.all(waiters.map((waiter) => enqueueCase(deps.storage, { caseId: waiter })));
}

/**
 * This case contained the identity (at `containedAt`, default now): it keeps it contained, and the cases that waited
 * for it are queued again. A later case takes the identity over only with a read of "enabled" sent after that time.
 */
export async function keepContained(deps: OwnershipDeps, identity: string, caseId: string, containedAt = new Date(deps.now()).toISOString()): Promise<void> {
  const waiters = await deps.owners.markContained(identity, caseId, containedAt);
  await Promise.all(waiters.map((waiter) => enqueueCase(deps.storage, { caseId: waiter })));
}

/** Whether an intent overrides a containment made at `containedAt`: a read of "enabled" before it is stale. */
export function overridesContainment(o: OwnershipIntent['overridesContained'], containedAt: string | undefined): boolean {
  if (o === 'always' || o === 'never') {
    return o === 'always';
  }
  return containedAt === undefined || Date.parse(o.enabledAt) > Date.parse(containedAt);
}

/** The ownership key of a target, once it is resolved to a directory object. */
export function identityOf(target: { objectId?: string }): string | undefined {
  return target.objectId ? IdentityOwners.identityOf(target.objectId) : undefined;
}

function unique(ids: string[]): string[] {
  return [...new Set(ids.filter((id) => id.length > 0))];
}
