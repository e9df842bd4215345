import type { RejectedEntity, Severity, TargetRef, WorkspaceRef } from '../alerts/alert-types';
import type { IdentityKind } from '../graph/identity-kind';
import type { TicketRef } from '../tickets/ticket-provider';
import { keyOf } from './storage-key';

/** What started a case: a Sentinel body, a direct request, or the responder itself (lifecycle sweep, drift check). */
export type CaseSource = 'incident' | 'alert' | 'entity' | 'direct' | 'lifecycle' | 'drift';
/** What a case is about: containment (Sentinel, direct requests, drift) or an agent's end of lifecycle. */
export type CaseKind = 'containment' | 'expiry';

/**
 * Which planner builds a target's steps. A target starts with its case's plan (`contain`, or `expire` /
 * `delete` for lifecycle cases); an approved release starts a new round of the same target with `release`.
 */
export type TargetPlan = 'contain' | 'release' | 'expire' | 'delete';

export type CaseStatus =
  | 'received' // recorded and queued, not yet picked up
  | 'running'
  | 'waiting' // a target waits for another case that acts on the same identity
  | 'held' // at least one target waits for an approval
  | 'paused' // the emergency stop is on: nothing is written until it is lifted
  | 'done' // every target reached an outcome
  | 'partial' // some steps failed permanently: a human must look
  | 'failed' // the case could not be processed (poison): a human must look
  | 'suspicious' // every target was refused: the posted body disagrees with Sentinel
  | 'ignored'; // nothing to act on (no usable target, or every target refused for a stated reason)

/** Case states whose work is still going on: the case will run again by itself (and wake the cases waiting for it). */
export const CASE_AT_WORK: ReadonlySet<CaseStatus> = new Set(['received', 'running', 'held', 'waiting', 'paused']);

export type StepState = 'pending' | 'running' | 'done' | 'skipped' | 'held' | 'failed' | 'would-do';

export type StepAction =
  | 'disable'
  | 'enable'
  | 'delete'
  | 'confirm-compromised'
  | 'dismiss-risk'
  | 'revoke-sessions'
  | 'notify-sponsors'
  | 'ticket'
  | 'ticket-note'
  | 'refusal-ticket'
  | 'comment';

export interface CaseRecord {
  caseId: string;
  kind: CaseKind;
  source: CaseSource;
  createdAt: string;
  updatedAt: string;
  status: CaseStatus;
  /** The mode the case last ran in (the setting is read at every run, not fixed at intake). */
  mode: 'enforce' | 'report-only';
  title: string;
  /** As posted (or the responder's own, for timers); see `verifiedSeverity` for Sentinel's. */
  severity: Severity;
  /** Sentinel's severity of the incident or alert, read back at the source. Gates every action. */
  verifiedSeverity?: Severity;
  dedupeKey: string;
  incidentArmId?: string;
  /** Sentinel answered that the incident the body names does not exist (a forged or mistyped id). */
  incidentMissing?: boolean;
  incidentNumber?: number;
  incidentUrl?: string;
  alertId?: string;
  workspace?: WorkspaceRef;
  /** Who asked: the verified caller's object id (playbook identity, analyst), or the responder's own for timers. */
  requestedBy: string;
  /** The first rejected entities; all of them are in the `{caseId}/rejected.json` blob when there are more. */
  rejected: RejectedEntity[];
  rejectedCount?: number;
  ticket?: TicketRef;
  /** Chain key of the outcome the ticket was opened with: its text already says it, so no note repeats it. */
  ticketOpenedFor?: string;
  /** Chain key of the outcomes reported so far on the ticket and the incident (see report-case). */
  reportedOutcome?: string;
  /** The outcome (targets and their states, hashed) last reported, so a re-run with nothing new reports nothing. */
  reportedState?: string;
  /** A short explanation of the status for the analyst (e.g. why it is suspicious or paused). */
  note?: string;
  relatedCaseId?: string;
  /** The lifecycle end date (`YYYY-MM-DD`) a lifecycle case acts on. */
  endDate?: string;
  /**
   * A random id of the intake post that created the case. A write that meets a conflict finds a row identical to its
   * own when it was stored and its answer lost (the Storage SDK sent it again), and also when another post of the same
   * body wrote it in the same millisecond; only this id tells the two apart.
   */
  post?: string;
}

export type TargetStatus =
  | 'pending' // its plan has steps to run
  | 'not-found'
  | 'skipped' // a guardrail, the severity gate or a setting: never acted on automatically (reason says which)
  | 'held' // waits for an approval (`approvalId`)
  | 'would-hold' // report-only: would wait for approval in enforce mode
  | 'rejected' // approval rejected
  | 'expired' // approval lapsed without a decision: nothing done; a new alert asks again
  | 'waiting' // another case acts on the same identity now; re-checked when it finishes (`joinedCaseId`)
  | 'joined' // another case contained the identity while this one waited (`joinedCaseId`)
  | 'contained'
  | 'would-contain'
  | 'released'
  | 'deleted'
  | 'failed'
  | 'unverified'; // refused: Sentinel does not back it (reason says how)

export interface TargetRecord {
  key: string;
  ref: TargetRef;
  /** A random id of the intake post that added the target (see `CaseRecord.post`). */
  post?: string;
  plan: TargetPlan;
  /** Incremented when a new plan starts on the same target (a release after a containment). */
  round: number;
  status: TargetStatus;
  reason?: string;
  objectId?: string;
  kind?: IdentityKind;
  displayName?: string;
  appId?: string;
  appOwnerOrganizationId?: string;
  agentIdentityBlueprintId?: string;
  joinedCaseId?: string;
  /** The approval the target waits for (a held plan) or the approval that released its hold. */
  approvalId?: string;
  receivedAt: string;
  resolvedAt?: string;
  /** When Graph acknowledged the access cut (the disable, or the session revocation for users). */
  accessCutAt?: string;
  /** `accountEnabled` as Graph answered when the target was resolved (an identity enabled again is acted on again). */
  accountEnabled?: boolean;
  /** What the target's source (Sentinel) said of it; absent until it was read back. */
  verification?: SourceVerdict;
  /** Passed the guardrails, the blast-radius limit and ownership; its steps may run. */
  admittedAt?: string;
  /** Who approved the held plan (names), when it was held. */
  approvedBy?: string;
}

/** Whether a target's source backs it: only what the source answered may refuse it. */
export type SourceVerdict =
  /** The source names the target, like with like, and is open. */
  | { state: 'verified'; detail: string }
  /** Not checked, on purpose: SENTINEL_VERIFY is off, or the responder raised the case itself. */
  | { state: 'skipped'; detail: string }
  /** Nothing to check against (a direct request, an entity trigger without an incident): held for approval. */
  | { state: 'unverifiable'; detail: string }
  /** The source answered and does not back it; `suspicious` when the body disagrees with it (a forgery). */
  | { state: 'refused'; suspicious: boolean; detail: string };

/** A target Sentinel cannot back (nothing to check it against): it waits for an approver. */
export function isUnverifiable(target: Pick<TargetRecord, 'verification'>): boolean {
  return target.verification?.state === 'unverifiable';
}

/** A target refused because the posted body disagrees with Sentinel. */
export function isSuspicious(target: Pick<TargetRecord, 'verification' | 'status'>): boolean {
  return target.status === 'unverified' && target.verification?.state === 'refused' && target.verification.suspicious;
}

export interface StepRecord {
  stepId: string;
  /** `case` for case-level steps (ticket, comment). */
  targetKey: string;
  action: StepAction;
  /** The target's plan round the step belongs to (0 for case-level steps). */
  round?: number;
  state: StepState;
  attempts: number;
  /** Plain words: what this step does or would do. */
  description: string;
  startedAt?: string;
  /** When a non-idempotent call (a ticket create) was last sent: its retry looks before creating again. */
  attemptAt?: number;
  endedAt?: string;
  requestIds: string[];
  errorCode?: string;
  errorMessage?: string;
  approvalId?: string;
  detail?: string;
}

/** The lease row that lets one worker at a time run a case. */
export interface LeaseRecord {
  owner?: string;
  until?: number;
  /** How many runs took the lease: shown nowhere, but every take-over changes the row. */
  runs: number;
}

/** Row keys are derived from the ids (hashes), never the ids themselves: see `keyOf`. */
export const CASE_ROW = 'case';
export const LEASE_ROW = 'lease';
export const targetRow = (key: string): string => `t|${keyOf(key)}`;
export const stepRow = (stepId: string): string => `s|${keyOf(stepId)}`;
/** A target step of one round of a target's plans; case-level steps use `case` as the target key. */
export const stepId = (targetKey: string, round: number, action: StepAction, suffix?: string): string =>
  [targetKey, String(round), action, ...(suffix === undefined ? [] : [suffix])].join('|');

/** A case with everything in its partition. */
export interface CaseBundle {
  record: CaseRecord;
  etag: string;
  targets: TargetRecord[];
  steps: StepRecord[];
}
