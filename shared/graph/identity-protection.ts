import type { Graph, GraphVersion } from './graph-client';
import type { IdentityKind } from './identity-kind';
import { kindFacts, type RiskApi } from './identity-kinds';

export type { RiskApi } from './identity-kinds';

/** Ids per confirmCompromised / dismiss call (dismiss documents 60; we use the same for confirm). */
export const RISK_IDS_PER_CALL = 60;

interface RiskApiSpec {
  version: GraphVersion;
  bodyKey: 'agentIds' | 'servicePrincipalIds' | 'userIds';
}

const RISK_APIS: Record<RiskApi, RiskApiSpec> = {
  // NOTE: riskyAgents exists only in beta (reference/graph/api-facts.md).
  riskyAgents: { version: 'beta', bodyKey: 'agentIds' },
  riskyServicePrincipals: { version: 'v1.0', bodyKey: 'servicePrincipalIds' },
  riskyUsers: { version: 'v1.0', bodyKey: 'userIds' },
};

/** Where an identity's risk lives; `undefined` for objects Identity Protection does not track. */
export function riskApiFor(kind: IdentityKind): RiskApi | undefined {
  return kindFacts(kind).risk;
}

/**
 * Calls `confirmCompromised` or `dismiss` on one risk collection for up to {@link RISK_IDS_PER_CALL} ids.
 * Identity Protection allows about 1 request/s per tenant, so callers batch ids rather than call per target.
 */
export async function setRisk(graph: Graph, api: RiskApi, action: 'confirmCompromised' | 'dismiss', ids: readonly string[]): Promise<{ requestId: string | undefined }> {
  const spec = RISK_APIS[api];
  const result = await graph.call({
    method: 'POST',
    version: spec.version,
    path: `/identityProtection/${api}/${action}`,
    body: { [spec.bodyKey]: ids },
  });
  return { requestId: result.requestId };
}
