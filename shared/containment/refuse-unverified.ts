import { stepId, type CaseBundle, type CaseRecord, type TargetRecord } from '../store/case-model';
import { ticketLabel } from '../tickets/ticket-label';
import { runStep, type StepContext } from '../plans/step-runner';
import { describeCase } from './case-report';
import type { Invocation, RunCaseDeps } from './run-case';

/**
 * A body that Sentinel does not back (unknown incident, a target the incident does not name) contains
 * nothing: the targets are marked unverified, the case suspicious with both versions kept, and a ticket
 * raised. A closed incident is simply ignored.
 */
export async function refuseUnverified(
  deps: RunCaseDeps,
  ctx: StepContext,
  bundle: CaseBundle,
  unchecked: TargetRecord[],
  verdict: { state: 'not-found' | 'mismatch' | 'closed'; detail: string; sentinelEntities?: unknown },
  inv: Invocation,
): Promise<CaseRecord> {
  const caseId = bundle.record.caseId;
  const suspicious = verdict.state !== 'closed';
  if (suspicious && verdict.sentinelEntities !== undefined) {
    const container = await deps.cases.storage().alertBodies();
    const body = JSON.stringify({ sentinelEntities: verdict.sentinelEntities }, null, 1);
    await container.getBlockBlobClient(`${caseId}.sentinel.json`).upload(body, Buffer.byteLength(body));
  }
  for (const t of unchecked) {
    t.status = 'unverified';
    t.reason = verdict.detail;
    await deps.cases.putTarget(caseId, t);
  }
  const note = suspicious
    ? `SUSPICIOUS: the posted body disagrees with Sentinel (${verdict.detail}). Nothing was contained. Posted body: alert-bodies/${caseId}.json; Sentinel's version: alert-bodies/${caseId}.sentinel.json.`
    : `Not acted on: ${verdict.detail}.`;
  await deps.cases.updateCase(caseId, (r) => {
    r.verification = { state: verdict.state, detail: verdict.detail, at: new Date(deps.now()).toISOString() };
    r.note = note;
  });
  await deps.audit.write({ action: suspicious ? 'intake.suspicious' : 'intake.closed-incident', scope: caseId, actor: bundle.record.requestedBy, result: 'refused', detail: verdict.detail });
  inv.log.warn(JSON.stringify({ caseId, verification: verdict.state, detail: verdict.detail }));
  if (suspicious) {
    // The ticket goes out before the final status, so whoever polls the case sees it with its ticket.
    const fresh = (await deps.cases.load(caseId)) ?? bundle;
    await runStep(ctx, { stepId: stepId('case', 'ticket'), targetKey: 'case', action: 'ticket', description: 'Raise a ticket: suspicious alert' }, async () => {
      const { text } = describeCase(fresh);
      const ref = await deps.tickets.open({ key: `agent-responders:${caseId}`, title: `[Agent responders] SUSPICIOUS alert refused (case ${caseId})`, text, severity: 'High', caseId });
      await deps.cases.updateCase(caseId, (r) => {
        r.ticket = ref;
      });
      return { detail: ticketLabel(ref) };
    });
  }
  const record = await deps.cases.updateCase(caseId, (r) => {
    r.status = suspicious ? 'suspicious' : 'ignored';
  });
  return record;
}
