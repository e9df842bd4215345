import type { Logger } from '../logger';
import type { AuditLog } from '../store/audit-log';
import type { CaseStore } from '../store/case-store';
import type { TargetRecord } from '../store/case-model';
import { caseMessageSchema } from '../store/case-queue';
import type { EmergencyStop } from '../control/emergency-stop';
import type { TicketProvider } from '../tickets/ticket-provider';
import { ticketLabel } from '../tickets/ticket-label';
import { CaseLease, CaseBusyError } from './case-lease';
import { CaseSession } from './case-session';
import { describeCase } from './describe-case';
import { giveBackRefused, type GiveBackDeps } from './give-back-refused';
import { identityOf, releaseOwnership } from './ownership';
import { applyApproval, type ApplyApprovalDeps } from './apply-approval';
import { runStep } from './run-plan-steps';
import { leaseMsOf } from './run-case';
import type { Config } from '../config';

export interface FailCaseDeps extends GiveBackDeps {
  approvals: ApplyApprovalDeps['approvals'];
  config: Pick<Config, 'CASE_LEASE_SECONDS'>;
  cases: CaseStore;
  audit: AuditLog;
  tickets: TicketProvider;
  stop: EmergencyStop;
  caseUrl: (caseId: string) => string | undefined;
}

/** Target states the poison handler ends: work the responder could not finish. */
const UNFINISHED: ReadonlySet<TargetRecord['status']> = new Set(['pending']);

/**
 * The poison-queue handler's use-case: a case whose message kept failing is marked failed, every target it could
 * not finish is marked failed and its identity released (so the next alert about it acts again), what its refused
 * targets took is given back, and a "manual action needed" ticket is raised, exactly once. A decided approval
 * the message carried is applied first (nothing else would apply it); other held targets keep their approval; targets
 * waiting for another case keep waiting. Runs under the case's lease like any run.
 */
export async function failCase(deps: FailCaseDeps, message: unknown, inv: { id: string; log: Logger }): Promise<void> {
  const parsed = caseMessageSchema.safeParse(message);
  if (!parsed.success) {
    inv.log.error(JSON.stringify({ msg: 'unreadable poison message', issues: parsed.error.issues.map((i) => i.path.join('.')) }));
    await deps.audit.write({ action: 'case.poison-unreadable', scope: 'system', actor: 'system', result: 'failed', detail: 'a poison message could not be parsed' });
    return;
  }
  const { caseId } = parsed.data;
  let lease: CaseLease;
  try {
    lease = await CaseLease.acquire(deps.cases, caseId, inv.id, leaseMsOf(deps.config), deps.now);
  } catch (err) {
    if (err instanceof CaseBusyError) {
      // The worker whose message failed may still be running it: wait for its lease, then take the case.
      await new Promise((r) => setTimeout(r, Math.min(err.retryAfterMs + 250, leaseMsOf(deps.config))));
      lease = await CaseLease.acquire(deps.cases, caseId, inv.id, leaseMsOf(deps.config), deps.now);
    } else {
      throw err;
    }
  }
  try {
    const loaded = await deps.cases.load(caseId);
    if (!loaded) {
      inv.log.error(JSON.stringify({ caseId, msg: 'poison message for an unknown case' }));
      return;
    }
    const session = new CaseSession(lease, loaded, deps.now);
    const why = 'The responder could not finish this after repeated attempts. Manual action needed.';
    if (parsed.data.approvalId) {
      // The message carried a decided approval: it is applied here, since nothing else will (its row says its action
      // was queued, so the approvals timer leaves it alone). Otherwise a rejected or expired hold would stay held, its
      // identity claimed by a failed case for ever; a granted hold becomes pending and is ended below with the rest.
      await applyApproval(deps, session, parsed.data.approvalId);
    }
    for (const t of [...session.targets.values()].filter((t) => UNFINISHED.has(t.status))) {
      // Given back before the failure is stored: a retry of this handler ends only targets still unfinished.
      const identity = identityOf(t);
      if (identity) {
        await releaseOwnership(deps, identity, caseId, 'failed');
      }
      await session.saveTarget({ ...t, status: 'failed', reason: why });
    }
    // The case ends here: what a refused target took must be given back now (a failed give-back is a reason to land here).
    await giveBackRefused(deps, session, () => session.fence());
    await session.saveRecord((r) => {
      r.status = 'failed';
      r.note = `${why} Check each target below.`;
    });
    const caseUrl = deps.caseUrl(caseId);
    const { text } = describeCase({ record: session.record, etag: '', targets: [...session.targets.values()], steps: [...session.steps.values()] }, caseUrl ? { statusUrl: caseUrl } : {});
    const step = await runStep(
      { session, stop: deps.stop, reportOnly: false, now: deps.now },
      { stepId: 'case|0|manual-ticket', targetKey: 'case' },
      {
        action: 'ticket',
        description: 'Raise a MANUAL ACTION NEEDED ticket',
        idempotent: false,
        run: async (prior) => {
          const ref = await deps.tickets.open(
            { key: `agent-responders:${caseId}:manual`, title: `[Agent responders] MANUAL ACTION NEEDED: case ${caseId} failed`, text, severity: 'High', caseId },
            prior.attemptAt === undefined ? {} : { earlierAttemptAt: prior.attemptAt },
          );
          return { detail: ticketLabel(ref) };
        },
      },
    );
    await session.settled();
    await deps.audit.write({ action: 'case.failed', scope: caseId, actor: 'system', result: 'failed', detail: `poison; manual ticket: ${step.detail ?? step.state}` });
    inv.log.error(JSON.stringify({ caseId, msg: 'case failed (poison); manual action ticket raised', ticket: step.detail }));
  } finally {
    await lease.release();
  }
}
