import type { AuditLog } from '../store/audit-log';
import type { CaseStore } from '../store/case-store';
import type { TicketProvider } from '../tickets/ticket-provider';
import { caseMessageSchema } from './case-message';
import { describeCase } from './case-report';
import type { Logger } from '../logger';

/**
 * The poison-queue handler's use-case: a case whose message kept failing is marked failed and a
 * "manual action needed" ticket is raised, so nothing accepted is silently dropped.
 */
export async function failCase(deps: { cases: CaseStore; audit: AuditLog; tickets: TicketProvider }, message: unknown, log: Logger): Promise<void> {
  const parsed = caseMessageSchema.safeParse(message);
  if (!parsed.success) {
    log.error(JSON.stringify({ msg: 'unreadable poison message', issues: parsed.error.issues.map((i) => i.path.join('.')) }));
    await deps.audit.write({ action: 'case.poison-unreadable', scope: 'system', actor: 'system', result: 'failed', detail: 'a poison message could not be parsed' });
    return;
  }
  const { caseId } = parsed.data;
  const bundle = await deps.cases.load(caseId);
  if (!bundle) {
    log.error(JSON.stringify({ caseId, msg: 'poison message for an unknown case' }));
    return;
  }
  if (bundle.record.status !== 'failed') {
    await deps.cases.updateCase(caseId, (r) => {
      r.status = 'failed';
      r.note = 'The responder could not finish this case after repeated attempts. Manual action needed: check each target below.';
    });
  }
  const fresh = (await deps.cases.load(caseId)) ?? bundle;
  const { text } = describeCase(fresh);
  const ref = await deps.tickets.open({
    key: `agent-responders:${caseId}:manual`,
    title: `[Agent responders] MANUAL ACTION NEEDED: case ${caseId} failed`,
    text,
    severity: 'High',
    caseId,
  });
  await deps.audit.write({ action: 'case.failed', scope: caseId, actor: 'system', result: 'failed', detail: `poison; manual ticket ${ref.provider} ${ref.number ?? ref.id}` });
  log.error(JSON.stringify({ caseId, msg: 'case failed (poison); manual action ticket raised', ticket: ref }));
}
