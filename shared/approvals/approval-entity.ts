import type { IdentityKind } from '../graph/identity-kind';
import type { ApprovalRecord } from './decide-rules';

/** What an approval releases when granted. */
export type ApprovalKind =
  | 'release' // re-enable a contained target and dismiss its risk
  | 'held-containment' // run a containment the guardrails held (blueprint, blast radius, listed identity, direct request)
  | 'lifecycle-delete'; // delete an agent long past its end date

/** A way the approvers hear of a request: a Teams card, a mail, or (a release) a note on the case's ticket and incident. */
export type AnnounceChannel = 'teams' | 'mail' | 'note';

/** The row key of an approval in the `approvals` table (one row per partition; the partition is the approval id). */
export const APPROVAL_ROW = 'approval';

/** An approval as stored in the `approvals` table (partition = approval id). */
export interface ApprovalEntity extends ApprovalRecord {
  kind: ApprovalKind;
  caseId: string;
  targetKey: string;
  targetId: string;
  targetName: string;
  targetKind: IdentityKind;
  /** Plain words: what will change if approved. */
  actionText: string;
  title: string;
  reason: string;
  requestedByName: string;
  /** Plain words: who may decide, with the names Graph gave for `APPROVERS` when the request was made. */
  approversText?: string;
  createdAt: string;
  /** Nonce of the link token; a new link (re-sent) gets a new nonce and voids the old one. */
  nonce: string;
  decidedAt?: string;
  /** Why an expired request ended before its deadline (approvals turned off: nobody could decide any more). */
  endedEarly?: string;
  /** When the granted action was handed to the responder (the approvals timer re-drives it otherwise). */
  actionQueuedAt?: string;
  /**
   * Whether the identity's sponsors and owners could be read completely when the approval was made. When not,
   * nobody can decide until a fresh read at decision time succeeds (separation of duties fails closed).
   */
  accountable?: { state: 'read' | 'unreadable'; at: string; detail?: string; permission?: string };
  /**
   * When each channel told the approvers about the request. Every request stores it (empty at first); the approvals
   * timer announces a pending request again on the channels missing here. Absent on rows stored before it was kept.
   */
  announced?: Partial<Record<AnnounceChannel, string>>;
  /**
   * When an announcement of the request began that has not been recorded yet (the request's own, from its insert):
   * while it is younger than `ANNOUNCE_GRACE_MS`, a request asked again or the approvals timer leaves the channels to
   * it instead of telling the approvers a second time. Cleared by the record of what it sent.
   */
  announcing?: string;
}
