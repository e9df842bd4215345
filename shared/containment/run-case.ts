import type { Sentinel } from '../sentinel/sentinel-client';
import type { CaseStore } from '../store/case-store';
import type { KeyStore } from '../store/key-store';
import type { CaseRecord, StepRecord, TargetRecord } from '../store/case-model';
import { stepId } from '../store/case-model';
import type { TicketProvider } from '../tickets/ticket-provider';
import { setAccountEnabled } from '../graph/service-principals';
import { revokeSignInSessions } from '../graph/users';
import { riskApiFor, type RiskApi } from '../graph/identity-protection';
import { claimStep, finishStep, holdLease, isTerminal, isTransient, keepLease, releaseStep, runStep, settleStep, type StepContext, type StepSpec } from '../plans/step-runner';
import { requesterOf } from '../approvals/requester-of';
import { approvalLink, requestApproval, type ApprovalDeps } from '../approvals/request-approval';
import { checkBlastRadius, checkGuardrails } from './guardrails';
import { planContainment } from './plan-containment';
import { resolveTargets } from './resolve-targets';
import { verifyAtSource } from './verify-at-source';
import { reportCase } from './report-case';
import { refuseUnverified } from './refuse-unverified';
import type { RiskCoalescer } from './risk-coalescer';
import type { Logger } from '../logger';
import { caseStatus } from '../plans/case-status';

export interface RunCaseDeps extends ApprovalDeps {
  cases: CaseStore;
  keys: KeyStore;
  tickets: TicketProvider;
  risk: Pick<RiskCoalescer, 'submit'>;
  sentinel: Sentinel;
}

export interface Invocation {
  id: string;
  log: Logger;
}

/** Targets whose steps may still need to run. */
const ACTIVE: ReadonlySet<TargetRecord['status']> = new Set(['pending', 'contained', 'would-contain', 'failed']);
/** Renewed every 5 s while a step runs, so a step of a crashed worker is taken over within 15 s. */
const LEASE_MS = 15_000;
/** The lease row that lets one worker at a time run a case (not a step: never shown, never finished). */
export const CASE_RUN: StepSpec = { stepId: stepId('case', 'run'), targetKey: 'case', action: 'run', description: 'a worker runs this case' };

/**
 * The containment responder for one case: verify at source, resolve, guardrails, then per target the plan
 * of its kind (disable first, alone on the critical path; then risk confirmation, batched, and session
 * revocation), then one ticket and one incident comment. Every step is persisted, so a redelivered message
 * or a crash resumes without repeating a side effect. Transient failures are rethrown after the other steps
 * ran, so the message is retried and only the unfinished steps run again.
 */
export async function runCase(deps: RunCaseDeps, caseId: string, inv: Invocation): Promise<CaseRecord | undefined> {
  const ctx: StepContext = { store: deps.cases, caseId, owner: inv.id, leaseMs: LEASE_MS, now: deps.now };
  // One worker per case: two deliveries of one case (a repeated POST, a redelivered message) would otherwise
  // each take some of its steps, find the others' busy, and both go back to the queue for a lease's length.
  // The lease comes first and the case is read once, under it: one storage round trip less before the disable.
  const release = await holdLease(ctx, CASE_RUN);
  try {
    return await runHeldCase(deps, ctx, inv);
  } finally {
    await release();
  }
}

/** The body of {@link runCase}, run while this worker holds the case. */
async function runHeldCase(deps: RunCaseDeps, ctx: StepContext, inv: Invocation): Promise<CaseRecord | undefined> {
  const caseId = ctx.caseId;
  let bundle = await deps.cases.load(caseId);
  if (!bundle) {
    inv.log.warn(JSON.stringify({ caseId, msg: 'case not found; message dropped' }));
    return undefined;
  }
  if (bundle.record.status === 'suspicious' || bundle.record.status === 'failed') {
    return bundle.record;
  }
  const reportOnly = bundle.record.mode === 'report-only';

  // 1. Zero trust: the incident must exist in Sentinel, be open, and name every target, before any write.
  const refused = bundle.record.verification;
  if (refused && (refused.state === 'not-found' || refused.state === 'mismatch' || refused.state === 'closed')) {
    // A retry of a refusal that did not finish (e.g. the ticket was throttled): finish it, act on nothing.
    return refuseUnverified(deps, ctx, bundle, bundle.targets.filter((t) => t.status === 'unverified'), { state: refused.state, detail: refused.detail }, inv);
  }
  const unchecked = bundle.targets.filter((t) => t.status === 'pending' && !t.verified);
  // 2. Resolve ids to directory objects and kinds (one getByIds for all object ids). Both are reads, so the
  // Graph lookup runs alongside the Sentinel re-read: verification costs no extra round trip before the disable.
  const [verdict, resolved] = await Promise.all([
    unchecked.length > 0 ? verifyAtSource(deps, bundle.record, unchecked) : Promise.resolve(undefined),
    resolveTargets(deps.graph, bundle.targets, deps.now),
  ]);
  if (verdict && (verdict.state === 'not-found' || verdict.state === 'mismatch' || verdict.state === 'closed')) {
    return refuseUnverified(deps, ctx, bundle, unchecked, verdict, inv);
  }
  if (verdict) {
    const unverifiable = verdict.state === 'unverifiable';
    for (const t of [...unchecked, ...resolved.changed.filter((c) => unchecked.some((u) => u.key === c.key))]) {
      t.verified = true;
      if (unverifiable) {
        t.unverifiable = true;
      }
    }
    if (verdict.state === 'skipped' && bundle.record.incidentArmId) {
      // Acting on an incident without re-reading it is a deliberate weakening: say so every time.
      inv.log.warn(JSON.stringify({ caseId, msg: 'SENTINEL VERIFICATION SKIPPED: acting on the posted body alone', detail: verdict.detail }));
    }
  }
  if (verdict || bundle.record.status === 'received') {
    await deps.cases.updateCase(caseId, (r) => {
      r.status = r.status === 'received' ? 'running' : r.status;
      if (verdict) {
        r.verification = { state: verdict.state === 'unverifiable' ? 'skipped' : verdict.state, detail: verdict.detail, at: new Date(deps.now()).toISOString() };
      }
    });
  }
  const byKey = new Map(bundle.targets.map((t) => [t.key, t]));
  for (const t of resolved.changed) {
    byKey.set(t.key, t);
  }

  // 3. Guardrails and the blast-radius limit, for targets not yet decided.
  const responderId = await deps.responderId().catch(() => undefined);
  const links = new Map<string, string>();
  const admissions: Promise<void>[] = [];
  for (const target of byKey.values()) {
    if (target.status !== 'pending' || target.kind === undefined || target.admittedAt !== undefined) {
      continue;
    }
    const verdict = checkGuardrails({ target, responderId, config: deps.config, direct: target.unverifiable === true, approved: target.approvedBy !== undefined });
    // An approver's yes is the decision the limit waits for: an approved target takes no slot.
    const overLimit = verdict.action === 'run' && !reportOnly && target.approvedBy === undefined ? await checkBlastRadius(deps, caseId, target) : undefined;
    if (overLimit !== undefined) {
      Object.assign(target, { status: 'held', reason: overLimit });
    } else if (verdict.action === 'skip') {
      Object.assign(target, { status: 'skipped', reason: verdict.reason });
    } else if (verdict.action === 'hold') {
      Object.assign(target, { status: 'held', reason: verdict.reason });
    } else {
      target.admittedAt = new Date(deps.now()).toISOString();
    }
    if ((target.status as TargetRecord['status']) === 'held' && reportOnly) {
      // Report-only changes nothing and asks nobody: no approval to decide, no mail to approvers.
      target.reason = `Report-only: in enforce mode this would wait for approval. ${target.reason ?? ''}`.trim();
    } else if ((target.status as TargetRecord['status']) === 'held') {
      const { approval, link } = await requestApproval(deps, {
        kind: 'held-containment',
        caseId,
        target,
        reason: `${target.reason ?? ''} Case reason: ${bundle.record.title}`.trim(),
        requestedBy: await requesterOf(deps, bundle.record.requestedBy),
        requestedByName: 'agent responders (guardrail)',
      });
      target.approvalId = approval.id;
      if (link) {
        links.set(approval.id, link);
      }
    }
    const record = async () => {
      await deps.cases.putTarget(caseId, target);
      await deps.audit.write({ action: `target.${target.status === 'pending' ? 'admitted' : target.status}`, scope: caseId, actor: 'system', targetId: target.objectId ?? target.key, result: 'info', detail: target.reason ?? 'passed guardrails' });
    };
    if (target.status === 'pending') {
      // Recording the admission is not on the critical path: it runs alongside the disable. A crash before it
      // lands only re-runs the guardrails, and the blast-radius slot is idempotent per case and target.
      const write = record();
      write.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
      admissions.push(write);
    } else {
      await record();
    }
  }
  for (const t of resolved.changed) {
    if (byKey.get(t.key) === t && t.status !== 'pending') {
      await deps.cases.putTarget(caseId, t);
    }
  }

  // 4. Execute: settle steps of held/skipped targets, then disable (critical path), then risk + sessions.
  const targets = [...byKey.values()];
  const transient: unknown[] = [];
  for (const target of targets) {
    if (target.status === 'held' || target.status === 'skipped') {
      for (const spec of planContainment(target)) {
        await settleStep(ctx, spec, target.status, target.reason ?? target.status, target.approvalId ? { approvalId: target.approvalId } : {});
      }
    }
  }
  const active = targets.filter((t) => ACTIVE.has(t.status) && t.kind !== undefined && t.admittedAt !== undefined);
  const plans = new Map(active.map((t) => [t.key, planContainment(t)]));
  const specOf = (t: TargetRecord, action: StepSpec['action']) => plans.get(t.key)?.find((s) => s.action === action);

  await Promise.all(
    active.map(async (t) => {
      const spec = specOf(t, 'disable');
      if (!spec) {
        return;
      }
      const step = await runWrite(ctx, spec, reportOnly, async () => {
        const res = await setAccountEnabled(deps.graph, { id: t.objectId ?? '', kind: t.kind ?? 'other' }, false);
        return { requestIds: res.requestId ? [res.requestId] : [], detail: 'accountEnabled = false acknowledged by Graph' };
      }).catch((err: unknown) => collect(transient, err));
      if (step?.state === 'done' && !t.accessCutAt) {
        t.accessCutAt = step.endedAt ?? new Date(deps.now()).toISOString();
      }
    }),
  );
  await Promise.all(admissions);

  const byApi = new Map<RiskApi, { target: TargetRecord; spec: StepSpec }[]>();
  for (const t of active) {
    const spec = specOf(t, 'confirm-compromised');
    const api = t.kind ? riskApiFor(t.kind) : undefined;
    if (spec && api) {
      byApi.set(api, [...(byApi.get(api) ?? []), { target: t, spec }]);
    }
  }
  await Promise.all([
    ...[...byApi].map(([api, items]) => confirmBatch(deps, ctx, api, items, reportOnly).catch((err: unknown) => collect(transient, err))),
    ...active.map(async (t) => {
      const spec = specOf(t, 'revoke-sessions');
      if (!spec) {
        return;
      }
      const step = await runWrite(ctx, spec, reportOnly, async () => {
        const res = await revokeSignInSessions(deps.graph, t.objectId ?? '');
        return { requestIds: res.requestId ? [res.requestId] : [], detail: 'refresh tokens and session cookies revoked' };
      }).catch((err: unknown) => collect(transient, err));
      if (step?.state === 'done' && !t.accessCutAt && !specOf(t, 'disable')) {
        t.accessCutAt = step.endedAt ?? new Date(deps.now()).toISOString();
      }
    }),
  ]);

  // Target outcomes from their steps.
  bundle = (await deps.cases.load(caseId)) ?? bundle;
  const stepsByTarget = groupSteps(bundle.steps);
  for (const t of active) {
    const steps = stepsByTarget.get(t.key) ?? [];
    const next = targetOutcome(steps, reportOnly);
    if (next && (next !== t.status || t.accessCutAt)) {
      t.status = next;
      const failed = steps.find((s) => s.state === 'failed');
      if (failed) {
        t.reason = `${failed.action} failed: ${failed.errorCode ?? ''} ${failed.errorMessage ?? ''}`.trim();
      }
      await deps.cases.putTarget(caseId, t);
    }
  }
  if (transient.length > 0) {
    throw transient[0];
  }

  // 5. Report: one ticket per case, one incident comment per change of outcome.
  bundle = (await deps.cases.load(caseId)) ?? bundle;
  for (const t of bundle.targets) {
    if (t.approvalId && !links.has(t.approvalId)) {
      const a = await deps.approvals.get(t.approvalId, 'approval');
      const link = a ? approvalLink(deps.config, a.value) : undefined;
      if (link) {
        links.set(t.approvalId, link);
      }
    }
  }
  await reportCase(deps, ctx, bundle, links, reportOnly);

  const final = await deps.cases.updateCase(caseId, (r) => {
    r.status = caseStatus(bundle);
  });
  inv.log.info(JSON.stringify({ caseId, status: final.status, targets: bundle.targets.map((t) => ({ key: t.key, status: t.status })) }));
  return final;
}

/** Runs a write step, or records it as "would do" in report-only mode (same plan, nothing changed). */
async function runWrite(ctx: StepContext, spec: StepSpec, reportOnly: boolean, exec: () => Promise<{ requestIds?: string[]; detail?: string }>): Promise<StepRecord> {
  if (reportOnly) {
    return settleStep(ctx, spec, 'would-do', 'report-only: not executed');
  }
  return runStep(ctx, spec, exec);
}

/** One Identity Protection call for all targets of a case that share a risk collection (coalesced further across cases). */
async function confirmBatch(deps: RunCaseDeps, ctx: StepContext, api: RiskApi, items: { target: TargetRecord; spec: StepSpec }[], reportOnly: boolean): Promise<void> {
  if (reportOnly) {
    await Promise.all(items.map((i) => settleStep(ctx, i.spec, 'would-do', 'report-only: not executed')));
    return;
  }
  const claims = [];
  for (const item of items) {
    const claim = await claimStep(ctx, item.spec);
    if (!('finished' in claim)) {
      claims.push({ item, claim });
    }
  }
  if (claims.length === 0) {
    return;
  }
  // The coalescer may hold the ids for a while (1 request/s per tenant): keep the leases alive meanwhile.
  const stops = claims.map((c) => keepLease(ctx, c.claim));
  let requestId: string | undefined;
  try {
    requestId = await deps.risk.submit(
      api,
      'confirmCompromised',
      claims.map((c) => c.item.target.objectId ?? ''),
    );
  } catch (err) {
    await Promise.all(stops.map((stop) => stop()));
    if (isTransient(err)) {
      await Promise.all(claims.map((c) => releaseStep(ctx, c.claim, err)));
      throw err;
    }
    await Promise.all(claims.map((c) => finishStep(ctx, c.claim, 'failed', { error: err })));
    return;
  }
  await Promise.all(stops.map((stop) => stop()));
  await Promise.all(claims.map((c) => finishStep(ctx, c.claim, 'done', { requestIds: requestId ? [requestId] : [], detail: `risk confirmed compromised (${api}, ${claims.length} id(s) in one call)` })));
}

function collect(into: unknown[], err: unknown): undefined {
  if (isTransient(err)) {
    into.push(err);
    return undefined;
  }
  throw err;
}

function groupSteps(steps: readonly StepRecord[]): Map<string, StepRecord[]> {
  const map = new Map<string, StepRecord[]>();
  for (const s of steps) {
    map.set(s.targetKey, [...(map.get(s.targetKey) ?? []), s]);
  }
  return map;
}

function targetOutcome(steps: readonly StepRecord[], reportOnly: boolean): TargetRecord['status'] | undefined {
  if (steps.length === 0 || steps.some((s) => !isTerminal(s.state))) {
    return undefined;
  }
  if (steps.some((s) => s.state === 'failed')) {
    return 'failed';
  }
  return reportOnly ? 'would-contain' : 'contained';
}


