import type { Graph } from '../graph/graph-client';
import { kindFacts } from '../graph/identity-kinds';
import type { RiskCoalescer } from '../graph/risk-coalescer';
import { setAccountEnabled } from '../graph/service-principals';
import { revokeSignInSessions } from '../graph/users';
import type { Planner, PlanStep, PrepareRecord, PrepareResult } from '../plans/planner';
import type { TargetRecord } from '../store/case-model';
import { resolveTargets, type ObjectResolver } from './resolve-targets';
import { verifyAtSource, type VerifyDeps } from './verify-at-source';

export interface ContainDeps extends VerifyDeps {
  graph: Graph;
  resolver: ObjectResolver;
  risk: Pick<RiskCoalescer, 'submit'>;
}

/** The name a step uses for its target: kind and display name. */
export function targetName(target: Pick<TargetRecord, 'kind' | 'displayName' | 'objectId' | 'key'>): string {
  return `${kindFacts(target.kind).label} "${target.displayName ?? target.objectId ?? target.key}"`;
}

/**
 * Containment (DESIGN.md, containment table): cut access first — disable the agent, or revoke the sessions of
 * an account that signs in — alone on the critical path; then confirm it compromised in Entra ID Protection
 * (coalesced across targets and cases: about 1 request/s per tenant) and revoke sessions where the kind has them.
 * Before any of it, the reads: Sentinel's copy of the incident or alert (verification) beside Graph's answer for
 * the identity (resolution), in parallel.
 */
export function containPlanner(deps: ContainDeps): Planner {
  return {
    plan: 'contain',
    cutsAccess: true,
    approvalKind: 'held-containment',
    async prepare(record: PrepareRecord, targets): Promise<PrepareResult> {
      const readAt = deps.now();
      const [verification, resolved] = await Promise.all([verifyAtSource(deps, record, targets), resolveTargets(deps, targets)]);
      const byKey = new Map(targets.map((t) => [t.key, { resolved: resolved.get(t.key) ?? null, ...(verification.byKey.has(t.key) ? { verdict: verification.byKey.get(t.key) } : {}) }]));
      return {
        byKey,
        readAt,
        ...(verification.severity ? { severity: verification.severity } : {}),
        ...(verification.sourceCopy === undefined ? {} : { sourceCopy: verification.sourceCopy }),
        ...(verification.incidentMissing ? { incidentMissing: true as const } : {}),
      };
    },
    steps(target) {
      const facts = kindFacts(target.kind);
      const id = target.objectId ?? '';
      const name = targetName(target);
      const disable: PlanStep | undefined =
        facts.cut === 'disable'
          ? {
              action: 'disable',
              description: `Disable ${name} (accountEnabled = false)`,
              idempotent: true,
              cutsAccess: true,
              run: async () => {
                const res = await setAccountEnabled(deps.graph, { id, kind: target.kind ?? 'other' }, false);
                return { requestIds: res.requestId ? [res.requestId] : [], detail: 'accountEnabled = false acknowledged by Graph' };
              },
            }
          : undefined;
      const revoke: PlanStep | undefined = facts.sessions
        ? {
            action: 'revoke-sessions',
            description: `Revoke the sign-in sessions of ${name}`,
            idempotent: true,
            cutsAccess: facts.cut === 'revoke-sessions',
            run: async () => {
              const res = await revokeSignInSessions(deps.graph, id);
              return { requestIds: res.requestId ? [res.requestId] : [], detail: 'refresh tokens and session cookies revoked' };
            },
          }
        : undefined;
      const risk = facts.risk;
      const confirm: PlanStep | undefined = risk
        ? {
            action: 'confirm-compromised',
            description: `Confirm ${name} compromised in Entra ID Protection (${risk})`,
            idempotent: true,
            run: async () => {
              const requestId = await deps.risk.submit(risk, 'confirmCompromised', [id]);
              return { requestIds: requestId ? [requestId] : [], detail: `risk confirmed compromised (${risk})` };
            },
          }
        : undefined;
      // The access cut goes first: confirming compromise changes only the risk state, issued tokens stay valid.
      const first = facts.cut === 'disable' ? disable : revoke;
      return [first, ...[disable, revoke, confirm].filter((s) => s !== first)].filter((s): s is PlanStep => s !== undefined);
    },
    outcome: {
      done: 'contained',
      reportOnly: 'would-contain',
      reason: (target) => (kindFacts(target.kind).cut === 'disable' ? 'Disabled and confirmed compromised.' : 'Sessions revoked and confirmed compromised.'),
    },
  };
}
