import { createHash } from 'node:crypto';
import { parseIncidentArmId } from '../sentinel/incident-arm-id';
import { stepId, type CaseBundle } from '../store/case-model';
import { deterministicGuid } from '../store/deterministic-guid';
import { ticketLabel } from '../tickets/ticket-label';
import { isTerminal, runStep, settleStep, type StepContext, type StepSpec } from '../plans/step-runner';
import { describeCase } from './case-report';
import type { RunCaseDeps } from './run-case';

/** A short stable hash of the targets' outcomes: a new outcome gets a new comment, a retry the same one. */
function outcomeKey(bundle: CaseBundle): string {
  const state = bundle.targets
    .map((t) => `${t.key}=${t.status}`)
    .sort()
    .join(',');
  return createHash('sha256').update(state).digest('hex').slice(0, 12);
}

/**
 * Tells the outside world a case's outcome: one ticket per case (a note on it for each later change of
 * outcome) and one Sentinel incident comment per outcome, each a persisted step with a deterministic key, so
 * a retried run neither skips nor repeats them.
 */
export async function reportCase(deps: RunCaseDeps, ctx: StepContext, bundle: CaseBundle, links: Map<string, string>, reportOnly: boolean): Promise<void> {
  const caseId = bundle.record.caseId;
  const key = outcomeKey(bundle);
  const statusUrl = deps.config.PUBLIC_BASE_URL ? `${deps.config.PUBLIC_BASE_URL}/api/cases/${caseId}` : undefined;
  const { title, text } = describeCase(bundle, { ...(statusUrl ? { statusUrl } : {}), links });
  // Until the ticket step finished, run it again: a ticket that failed to open transiently must still be opened.
  const ticketStep = bundle.steps.find((s) => s.stepId === stepId('case', 'ticket'));
  const first = ticketStep === undefined || !isTerminal(ticketStep.state);
  // A redelivered message (or a re-run with nothing new) must not add the same note again.
  const alreadyTold = !first && bundle.record.reportedOutcome === key;
  const told = () =>
    deps.cases.updateCase(caseId, (r) => {
      r.reportedOutcome = key;
    });
  const ticketSpec: StepSpec = first
    ? { stepId: stepId('case', 'ticket'), targetKey: 'case', action: 'ticket', description: `Open a ${deps.tickets.name} ticket for the case` }
    : { stepId: `case|ticket-note|${key}`, targetKey: 'case', action: 'ticket-note', description: `Add the new outcome to the ${deps.tickets.name} ticket` };
  const armId = bundle.record.incidentArmId ? parseIncidentArmId(bundle.record.incidentArmId) : undefined;
  const commentSpec: StepSpec = { stepId: `case|comment|${key}`, targetKey: 'case', action: 'comment', description: 'Comment on the Sentinel incident' };

  const ticketTask = async () => {
    if (alreadyTold) {
      return undefined;
    }
    if (reportOnly) {
      const step = await settleStep(ctx, ticketSpec, 'would-do', `report-only: ${title}`);
      await told();
      return step;
    }
    return runStep(ctx, ticketSpec, async () => {
      if (first) {
        const ref = await deps.tickets.open({ key: `agent-responders:${caseId}`, title, text, severity: bundle.record.severity, caseId });
        await deps.cases.updateCase(caseId, (r) => {
          r.ticket = ref;
          r.reportedOutcome = key;
        });
        return { detail: ticketLabel(ref) };
      }
      const ref = bundle.record.ticket ?? (await deps.cases.getCase(caseId))?.ticket;
      if (!ref) {
        return { detail: 'no ticket to update' };
      }
      await deps.tickets.addNote(ref, text, `agent-responders:${caseId}:${key}`);
      await told();
      return { detail: `note added to ${ticketLabel(ref)}` };
    });
  };
  const commentTask = async () => {
    if (!armId) {
      return undefined;
    }
    if (reportOnly) {
      return settleStep(ctx, commentSpec, 'would-do', 'report-only: comment not posted');
    }
    return runStep(ctx, commentSpec, async () => {
      await deps.sentinel.putComment(armId, deterministicGuid(`${caseId}|${key}`), text.slice(0, 30_000));
      return { detail: 'comment posted' };
    });
  };
  const results = await Promise.allSettled([ticketTask(), commentTask()]);
  for (const r of results) {
    if (r.status === 'rejected') {
      throw r.reason;
    }
    if (r.value) {
      await deps.audit.write({ action: `case.${r.value.action}`, scope: caseId, actor: 'system', result: r.value.state === 'done' ? 'ok' : r.value.state === 'would-do' ? 'would-do' : r.value.state === 'failed' ? 'failed' : 'info', detail: r.value.detail ?? r.value.errorMessage ?? '' });
    }
  }
}
