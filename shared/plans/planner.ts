import type { Severity } from '../alerts/alert-types';
import type { ApprovalKind } from '../approvals/approval-entity';
import type { DirectoryObject } from '../graph/identity-kind';
import type { CaseRecord, SourceVerdict, StepAction, TargetPlan, TargetRecord, TargetStatus } from '../store/case-model';

export type { SourceVerdict } from '../store/case-model';

/** What a step reports when it ran. */
export interface StepResult {
  requestIds?: string[];
  detail?: string;
}

/** One side effect of a target's plan, in words and as the call that makes it. */
export interface PlanStep {
  action: StepAction;
  /** Plain words: what the step does (shown on the case, the ticket and the page). */
  description: string;
  /**
   * Sending it twice has the effect of sending it once (`accountEnabled: false`, confirmCompromised, a keyed
   * note): it is sent without a claim first and only its outcome is recorded. A step that is not (a mail) is
   * recorded as started before it is sent, so a crash in between never sends it twice.
   */
  idempotent: boolean;
  /** The target's access cut: the time it finishes is the end of exposure (`accessCutAt`). */
  cutsAccess?: boolean;
  /** Run only when the target's first step finished `done` (e.g. tell sponsors after the disable). */
  onlyIfFirstDone?: boolean;
  /** Makes the call. `prior.attemptAt` is when an earlier attempt was sent whose outcome is unknown (non-idempotent steps). */
  run(prior: { attemptAt?: number }): Promise<StepResult>;
}

/** What the reads before admission found out about one target. */
export interface Preparation {
  /** Graph's answer: the directory object, or `null` when the tenant has no such identity. */
  resolved?: DirectoryObject | null;
  /** What the target's source (Sentinel) says about it. */
  verdict?: SourceVerdict;
}

/** What a planner's reads need of the case: enough to start them before the case is loaded. */
export type PrepareRecord = Pick<CaseRecord, 'caseId' | 'source' | 'incidentArmId' | 'alertId'> & {
  /** The Log Analytics workspace (customer) id an alert body names: where the alert is read back. */
  workspaceCustomerId?: string;
  /** When the case was recorded (an alert not yet in its workspace is looked for again for a while). */
  receivedAt?: string;
};

/** The outcome of the reads for a set of targets, by target key, and what the source said of the case. */
export interface PrepareResult {
  byKey: Map<string, Preparation>;
  /** Sentinel's severity of the incident or alert (gates every action). */
  severity?: Severity;
  /** Sentinel's own copy, kept beside the posted body when something is refused as suspicious. */
  sourceCopy?: unknown;
  /** Sentinel answered that the incident does not exist (nothing to comment on). */
  incidentMissing?: true;
  /**
   * When the reads were sent (epoch ms). What Graph answered holds from then on at the earliest, so an identity read
   * as enabled counts as enabled since this time, not since the answer was processed: a read sent before another
   * case's containment and processed after it must never pass for proof that the identity was enabled again.
   */
  readAt?: number;
}

/**
 * A planner says which steps a target's plan has and what each calls; the engine (`run-case.ts`) does the
 * rest: the lease, loading, admission (guardrails, blast radius, ownership, approvals), running and recording
 * the steps, settling, reporting, the case status. Containment, release, lifecycle expiry and deletion are
 * planners; drift is a containment whose source is the responder itself.
 */
export interface Planner {
  plan: TargetPlan;
  /** Reads that decide before any write: resolve the identity, verify it at its source. */
  prepare?(record: PrepareRecord, targets: readonly Pick<TargetRecord, 'key' | 'ref'>[]): Promise<PrepareResult>;
  /** Whether the plan cuts access: it is counted against the blast-radius limit unless an approver released it. */
  cutsAccess: boolean;
  /**
   * Whether the plan acts on an identity another case keeps contained (a deletion goes further than a
   * containment). Other plans are covered by that containment (a second containment joins it; a release of an
   * older case must not undo a newer one's).
   */
  supersedesContainment?: boolean;
  /** Why the plan itself always waits for an approver (a deletion), if it does. */
  holdReason?(target: TargetRecord, record: CaseRecord): string | undefined;
  /** The approval a hold of this plan asks for. */
  approvalKind: ApprovalKind;
  /** The steps, first the one on the critical path (the access cut). */
  steps(target: TargetRecord, record: CaseRecord): PlanStep[];
  /** The target's status once every step finished (`would-…` in report-only mode). */
  outcome: { done: TargetStatus; reportOnly: TargetStatus; reason: (target: TargetRecord, record: CaseRecord) => string };
}
