import type { IdentityKind } from '../graph/identity-kind';
import type { ApprovalRecord } from './decide-rules';

/** What an approval releases when granted. */
export type ApprovalKind =
  | 'release' // re-enable a contained target and dismiss its risk
  | 'held-containment' // run a containment the guardrails held (blueprint, blast radius, listed identity, direct request)
  | 'lifecycle-delete'; // delete an agent long past its end date

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
  /** When the granted action was handed to the responder (the approvals timer re-drives it otherwise). */
  actionQueuedAt?: string;
  /**
   * Whether the identity's sponsors and owners could be read completely when the approval was made. When not,
   * nobody can decide until a fresh read at decision time succeeds (separation of duties fails closed).
   */
  accountable?: { state: 'read' | 'unreadable'; at: string; detail?: string; permission?: string };
}
