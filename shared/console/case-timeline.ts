import type { AuditEntry } from '../store/audit-log';
import type { CaseBundle, StepRecord, StepState } from '../store/case-model';
import { targetName } from './list-cases';

/** One line of a case's timeline: what happened, when, who did it, and the Graph request ids that prove it. */
export interface TimelineEntry {
  /** ISO time; undefined for a step that has not started. */
  at?: string;
  who: string;
  what: string;
  result: string;
  detail?: string;
  /** Graph (or ARM) request ids, for a support ticket with Microsoft. */
  requestIds: string[];
}

const STEP_STATE: Record<StepState, string> = {
  pending: 'not started',
  running: 'running',
  done: 'done',
  skipped: 'skipped',
  held: 'held for approval',
  failed: 'failed',
  'would-do': 'would run (report-only)',
};

const AUDIT_RESULT: Record<AuditEntry['result'], string> = {
  ok: 'done',
  failed: 'failed',
  refused: 'refused',
  'would-do': 'would run (report-only)',
  info: 'noted',
};

/** Plain words for the audit actions an analyst meets most; others show their code. */
const AUDIT_ACTION: Record<string, string> = {
  'intake.received': 'Alert received and recorded',
  'intake.update': 'Incident update added targets',
  'target.admitted': 'Passed the guardrails',
  'target.held': 'Held for approval',
  'target.would-hold': 'Would wait for approval (report-only)',
  'target.skipped': 'Not acted on (guardrail or setting)',
  'target.unverified': 'Refused: Sentinel does not back it',
  'target.not-found': 'No such identity in the tenant',
  'target.waiting': 'Waiting for another case acting on it',
  'target.joined': 'Covered by another case',
  'target.contained': 'Contained',
  'target.would-contain': 'Would contain (report-only)',
  'target.failed': 'Failed: manual action needed',
  'target.released': 'Released',
  'target.deleted': 'Deleted',
  'target.hold-released': 'Approved: the held plan runs',
  'target.release-approved': 'Release approved: it runs',
  'target.hold-rejected': 'Hold rejected',
  'target.hold-expired': 'Hold expired',
  'approval.requested': 'Approval requested',
  'approval.viewed': 'Approval page opened',
  'approval.approved': 'Approved',
  'approval.rejected': 'Rejected',
  'approval.refused': 'Decision refused',
  'approval.link-refused': 'Approval link refused',
  'approval.expired': 'Approval expired',
  'approval.escalated': 'Expiry escalated on the ticket',
  'case.failed': 'Case failed: manual action needed',
  'case.requeued': 'Case re-queued after a stall',
  'console.refused': 'Case page request refused',
  'teams.card-posted': 'Card posted to Teams',
  'teams.card-failed': 'Card not posted to Teams',
};

/** Who did it, in words: the responder, someone not signed in, or a named person when the case knows the name. */
function actorName(actor: string, names: ReadonlyMap<string, string>, responderId: string | undefined): string {
  if (actor === 'system' || (responderId !== undefined && actor === responderId)) {
    return 'Agent responder';
  }
  if (actor === 'anonymous') {
    return 'someone not signed in';
  }
  const name = names.get(actor.toLowerCase());
  return name === undefined ? actor : `${name} (${actor})`;
}

function stepEntry(step: StepRecord, targetNames: ReadonlyMap<string, string>): TimelineEntry {
  const on = step.targetKey === 'case' ? '' : ` — ${targetNames.get(step.targetKey) ?? step.targetKey}`;
  const error = step.errorCode !== undefined || step.errorMessage !== undefined ? [step.errorCode, step.errorMessage].filter(Boolean).join(': ') : undefined;
  const attempts = step.attempts > 1 ? `${step.attempts} attempts` : undefined;
  const detail = [error ?? step.detail, attempts].filter((v): v is string => v !== undefined && v.length > 0).join('; ');
  const at = step.endedAt ?? step.startedAt;
  return {
    ...(at !== undefined ? { at } : {}),
    who: 'Agent responder',
    what: `${step.description}${on}`,
    result: STEP_STATE[step.state],
    ...(detail.length > 0 ? { detail } : {}),
    requestIds: step.requestIds,
  };
}

/**
 * Every step of a case and every audited event in its scope, oldest first; steps that have not started come last.
 * `names` maps object ids to the names the case knows (requesters and deciders of its approvals).
 */
export function caseTimeline(bundle: CaseBundle, audit: readonly AuditEntry[], names: ReadonlyMap<string, string>, responderId?: string): TimelineEntry[] {
  const targetNames = new Map(bundle.targets.map((t) => [t.key, targetName(t)]));
  const opened: TimelineEntry = {
    at: bundle.record.createdAt,
    who: actorName(bundle.record.requestedBy, names, responderId),
    what: `Case opened (${bundle.record.source}, ${bundle.record.mode})`,
    result: 'noted',
    requestIds: [],
  };
  const steps = bundle.steps.map((s) => stepEntry(s, targetNames));
  const events = audit.map(
    (e): TimelineEntry => ({
      ...(e.at !== undefined ? { at: e.at } : {}),
      who: actorName(e.actor, names, responderId),
      what: `${AUDIT_ACTION[e.action] ?? e.action}${e.targetId !== undefined ? ` — ${targetNames.get(`oid:${e.targetId}`) ?? e.targetId}` : ''}`,
      result: AUDIT_RESULT[e.result],
      ...(e.detail !== undefined && e.detail.length > 0 ? { detail: e.detail } : {}),
      requestIds: e.requestId !== undefined ? [e.requestId] : [],
    }),
  );
  const dated = [opened, ...steps, ...events].filter((e) => e.at !== undefined);
  const undated = steps.filter((e) => e.at === undefined);
  dated.sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''));
  return [...dated, ...undated];
}
