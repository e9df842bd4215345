import { approvalLink } from '../approvals/approval-link';
import { APPROVAL_ROW } from '../approvals/approval-entity';
import type { ApprovalDeps } from '../approvals/request-approval';
import { parseIncidentArmId } from '../sentinel/incident-arm-id';
import type { Sentinel } from '../sentinel/sentinel-client';
import { isSuspicious, type CaseBundle, type TargetRecord } from '../store/case-model';
import { deterministicGuid } from '../store/deterministic-guid';
import { keyOf } from '../store/storage-key';
import { ticketLabel } from '../tickets/ticket-label';
import type { TicketProvider } from '../tickets/ticket-provider';
import { describeCase } from './describe-case';
import { isTransient, runStep, type StepRunContext } from './run-plan-steps';

export interface ReportDeps extends Pick<ApprovalDeps, 'config' | 'approvals'> {
  tickets: TicketProvider;
  sentinel: Pick<Sentinel, 'putComment'>;
  /** Where the case is shown to people (the case page), for the ticket and the comment. */
  caseUrl: (caseId: string) => string | undefined;
}

/** The targets' outcomes, as a short hash: a new outcome gets a new note and comment, a retry the same one. */
export function outcomeOf(targets: readonly Pick<TargetRecord, 'key' | 'status' | 'round'>[]): string {
  return keyOf(...targets.map((t) => `${t.key}=${t.status}@${t.round}`).sort()).slice(0, 16);
}

/**
 * Tells the outside world a case's outcome, once per change of outcome: one ticket per case (a note on it for
 * each later outcome) and one Sentinel incident comment per outcome; plus one High ticket for targets refused as
 * not backed by Sentinel (a forged or edited body), whatever the mode. Each is a step of the case: the ticket
 * create is recorded as started before it is sent (a retry looks for it first, see TicketProvider.open), notes and
 * comments carry keys derived from the chain of outcomes, so a retried run neither skips nor repeats them.
 */
export async function reportCase(deps: ReportDeps, ctx: StepRunContext): Promise<void> {
  const session = ctx.session;
  const caseId = session.caseId;
  const bundle: CaseBundle = { record: session.record, etag: '', targets: [...session.targets.values()], steps: [...session.steps.values()] };
  const caseUrl = deps.caseUrl(caseId);
  const links = await approvalLinks(deps, bundle.targets);
  const { title, text } = describeCase(bundle, { ...(caseUrl ? { statusUrl: caseUrl } : {}), links });
  const transient: unknown[] = [];
  const collect = (err: unknown): undefined => {
    if (!isTransient(err)) {
      throw err;
    }
    transient.push(err);
    return undefined;
  };

  const record = session.record;
  const refused = bundle.targets.filter(isSuspicious);
  const refusalHash = keyOf(...refused.map((t) => t.key).sort()).slice(0, 16);
  const refusalSlot = { stepId: `case|0|refusal-ticket|${refusalHash}`, targetKey: 'case' };
  const suspiciousTitle = `[Agent responders] SUSPICIOUS: refused ${refused.length} target(s) Sentinel does not back (case ${caseId})`;
  // A forgery inside a case that already has a ticket (a forged update to a genuine incident) gets its own
  // High ticket: it is a security event of its own, not a change of the genuine case's outcome.
  const refusal =
    refused.length > 0 && record.ticket
      ? runStep({ ...ctx, reportOnly: false }, refusalSlot, {
          action: 'refusal-ticket',
          description: `Raise a ticket: ${refused.length} target(s) refused, not backed by Sentinel`,
          idempotent: false,
          run: async (prior) => {
            const ref = await deps.tickets.open({ key: `agent-responders:${caseId}:refused:${refusalHash}`, title: suspiciousTitle, text, severity: 'High', caseId }, prior.attemptAt === undefined ? {} : { earlierAttemptAt: prior.attemptAt });
            return { detail: ticketLabel(ref) };
          },
        }).catch(collect)
      : undefined;

  const outcome = outcomeOf(bundle.targets);
  if (record.reportedState === outcome) {
    await refusal;
    if (transient.length > 0) {
      throw transient[0];
    }
    return;
  }
  const chain = keyOf(record.reportedOutcome ?? '', outcome).slice(0, 16);
  const ticket = record.ticket;
  // A case whose every identity is covered by another case (joined, or waiting for it) opens no ticket of its own:
  // the acting case has one. Its incident still gets the comment saying which case acts.
  const ownOutcome = bundle.targets.some((t) => t.status !== 'joined' && t.status !== 'waiting');
  // A run that opened the ticket and died before recording the outcome as reported reports again: the ticket
  // already says this outcome, so it gets no note repeating it (the comment is put again under the same id).
  const ticketTask = (!ticket && !ownOutcome) || (ticket && record.ticketOpenedFor === chain)
    ? Promise.resolve(undefined)
    : ticket
    ? runStep(ctx, { stepId: `case|0|ticket-note|${chain}`, targetKey: 'case' }, {
        action: 'ticket-note',
        description: `Add the new outcome to ${ticketLabel(ticket)}`,
        // Keyed, so a retry finds the note; recorded as started so a retry knows an earlier attempt may have landed.
        idempotent: false,
        run: async (prior) => {
          await deps.tickets.addNote(ticket, `${title}\n\n${text}`, `agent-responders:${caseId}:${chain}`, prior.attemptAt === undefined ? {} : { earlierAttemptAt: prior.attemptAt });
          return { detail: `note added to ${ticketLabel(ticket)}` };
        },
      })
    : (() => {
        // The case's first ticket; when the case refused a forgery it says so in its title, in the ticket that
        // every refusal raises (even in report-only mode: refusing a forgery changes nothing in the tenant).
        const suspicious = refused.length > 0;
        let opened: Awaited<ReturnType<TicketProvider['open']>> | undefined;
        return runStep(
          suspicious ? { ...ctx, reportOnly: false } : ctx,
          { stepId: 'case|0|ticket', targetKey: 'case' },
          {
            action: 'ticket',
            description: `Open a ${deps.tickets.name} ticket for the case`,
            idempotent: false,
            run: async (prior) => {
              opened = await deps.tickets.open(
                { key: `agent-responders:${caseId}`, title: suspicious ? suspiciousTitle : title, text, severity: suspicious ? 'High' : (record.verifiedSeverity ?? record.severity), caseId },
                prior.attemptAt === undefined ? {} : { earlierAttemptAt: prior.attemptAt },
              );
              return { detail: ticketLabel(opened) };
            },
          },
          // The ticket's reference is stored with the step's outcome, in one write.
          (done) =>
            session.saveStepAndRecord(done, (r) => {
              if (opened) {
                r.ticket = opened;
                r.ticketOpenedFor = chain;
              }
            }),
        );
      })();
  const armId = record.incidentArmId && !record.incidentMissing ? parseIncidentArmId(record.incidentArmId) : undefined;
  const commentTask = armId
    ? runStep(ctx, { stepId: `case|0|comment|${chain}`, targetKey: 'case' }, {
        action: 'comment',
        description: 'Comment on the Sentinel incident',
        idempotent: true,
        run: async () => {
          await deps.sentinel.putComment(armId, deterministicGuid(`${caseId}|${chain}`), text.slice(0, 30_000));
          return { detail: 'comment posted' };
        },
      },
      // Rides with the case's next write or the lease given back (for a case that joins another, the only write
      // left): a run that dies first puts the same comment again, under the same id.
      (done) => {
        void session.saveStep(done, { deferred: true });
        return Promise.resolve();
      })
    : undefined;
  await Promise.all([refusal, ticketTask.catch(collect), commentTask?.catch(collect)]);
  if (transient.length > 0) {
    throw transient[0];
  }
  // Rides with the case's next write or the lease given back: a run that dies before it lands reports again and
  // repeats nothing (the same chain finds its steps done or puts the same comment; see ticketOpenedFor).
  void session.saveRecord(
    (r) => {
      r.reportedOutcome = chain;
      r.reportedState = outcome;
    },
    { deferred: true },
  );
}

/** The signed link of each pending approval a held target waits for. */
async function approvalLinks(deps: Pick<ApprovalDeps, 'config' | 'approvals'>, targets: readonly TargetRecord[]): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  await Promise.all(
    targets
      .filter((t) => t.status === 'held' && t.approvalId)
      .map(async (t) => {
        const stored = await deps.approvals.get(t.approvalId ?? '', APPROVAL_ROW);
        const link = stored ? approvalLink(deps.config, stored.value) : undefined;
        if (link) {
          links.set(t.approvalId ?? '', link);
        }
      }),
  );
  return links;
}
