import type { RejectedEntity, Severity, TargetRef, WorkspaceRef } from '../alerts/alert-types';
import type { IdentityKind } from '../graph/identity-kind';
import type { TicketRef } from '../tickets/ticket-provider';

/** What started a case: a Sentinel body, a direct request, a timer (lifecycle, drift) or a release request. */
export type CaseSource = 'incident' | 'alert' | 'entity' | 'direct' | 'lifecycle' | 'drift' | 'release';
/** Which planner builds the steps of its targets. */
export type CaseKind = 'containment' | 'release' | 'expiry' | 'drift';

export type CaseStatus =
  | 'received' // recorded and queued, not yet picked up
  | 'running'
  | 'done' // every step finished (some may be skipped)
  | 'held' // at least one target waits for an approval
  | 'partial' // some steps failed permanently
  | 'failed' // the case could not be processed (poison)
  | 'suspicious' // the posted body disagrees with Sentinel: nothing contained
  | 'ignored'; // nothing to do (closed incident, no usable target)

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
  | 'comment'
  /** Not a side effect: the lease that lets one worker at a time run the case. */
  | 'run';

export interface CaseRecord {
  caseId: string;
  kind: CaseKind;
  source: CaseSource;
  createdAt: string;
  updatedAt: string;
  status: CaseStatus;
  mode: 'enforce' | 'report-only';
  title: string;
  severity: Severity;
  dedupeKey: string;
  incidentArmId?: string;
  /** The incident's portal link and number, as the Sentinel trigger body gave them (for pages and tickets). */
  incidentUrl?: string;
  incidentNumber?: number;
  alertId?: string;
  workspace?: WorkspaceRef;
  /** Who asked: the caller principal's object id, an approver, or `system` for timers. */
  requestedBy: string;
  rejected: RejectedEntity[];
  ticket?: TicketRef;
  /** The outcome (targets and their states, hashed) the ticket last described, so a re-run adds no duplicate note. */
  reportedOutcome?: string;
  /** A short explanation of the status for the analyst (e.g. why it is suspicious). */
  note?: string;
  relatedCaseId?: string;
  /** Whether the incident was re-read from Sentinel and agreed (zero-trust intake). */
  verification?: { state: 'verified' | 'skipped' | 'mismatch' | 'not-found' | 'closed'; detail: string; at: string };
}

export type TargetStatus =
  | 'pending'
  | 'not-found'
  | 'skipped' // guardrail: never acted on
  | 'held' // waits for approval
  | 'rejected' // approval rejected
  | 'expired' // approval lapsed without a decision: nothing done; a new alert asks again
  | 'contained'
  | 'would-contain'
  | 'released'
  | 'joined' // already handled by another open case
  | 'failed'
  | 'unverified'; // not named by the incident in Sentinel

export interface TargetRecord {
  key: string;
  ref: TargetRef;
  status: TargetStatus;
  reason?: string;
  objectId?: string;
  kind?: IdentityKind;
  displayName?: string;
  appId?: string;
  appOwnerOrganizationId?: string;
  agentIdentityBlueprintId?: string;
  joinedCaseId?: string;
  approvalId?: string;
  receivedAt: string;
  resolvedAt?: string;
  /** When Graph acknowledged the disable (or the session revocation for users): the end of exposure. */
  accessCutAt?: string;
  /** Checked against Sentinel (or verification did not apply). */
  verified?: boolean;
  /** No incident to check against (direct request, alert without incident id): held for approval. */
  unverifiable?: boolean;
  /** Passed the guardrails and the blast-radius limit; steps may run. */
  admittedAt?: string;
  /** Who approved a held containment of this target. */
  approvedBy?: string;
}

export interface StepRecord {
  stepId: string;
  /** `case` for case-level steps (ticket, comment). */
  targetKey: string;
  action: StepAction;
  state: StepState;
  attempts: number;
  /** Plain words: what this step does or would do. */
  description: string;
  leaseUntil?: number;
  leaseOwner?: string;
  startedAt?: string;
  endedAt?: string;
  requestIds: string[];
  errorCode?: string;
  errorMessage?: string;
  approvalId?: string;
  detail?: string;
}

export const CASE_ROW = 'case';
export const targetRow = (key: string) => `t|${key}`;
export const stepRow = (stepId: string) => `s|${stepId}`;
export const stepId = (targetKey: string, action: StepAction) => `${targetKey}|${action}`;

/** A case with everything in its partition. */
export interface CaseBundle {
  record: CaseRecord;
  etag: string;
  targets: TargetRecord[];
  steps: StepRecord[];
}
