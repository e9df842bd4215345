import type { Config } from '../config';
import type { TargetRecord } from '../store/case-model';
import type { KeyStore } from '../store/key-store';

/** Tenants that own Microsoft's first-party service principals (DESIGN.md, Rules). */
export const MICROSOFT_TENANTS: ReadonlySet<string> = new Set(['f8cdef31-a31e-4b4a-93e4-5f571e91255a', '72f988bf-86f1-41af-91ab-2d7cd011db47']);

export type GuardrailVerdict = { action: 'run' } | { action: 'skip'; reason: string } | { action: 'hold'; reason: string };

export interface GuardrailInput {
  target: TargetRecord;
  responderId: string | undefined;
  config: Pick<Config, 'PROTECTED_IDENTITIES' | 'REQUIRE_APPROVAL_IDENTITIES' | 'DIRECT_REQUESTS_REQUIRE_APPROVAL'>;
  /** Nothing in Sentinel backs the target (a direct request or an alert without an incident id). */
  direct: boolean;
  /** An approver already released the hold on this target. */
  approved: boolean;
}

/**
 * Decides, before any write, whether a resolved target may be acted on. Skips are absolute (no approval can
 * lift them): the responder itself, Microsoft first-party service principals, protected identities.
 * Holds wait for a human: blueprint principals (disabling one disables every agent of the blueprint),
 * identities listed as requiring approval, and direct requests when so configured. The blast-radius limit is
 * applied after this, by the caller, because it needs a shared counter.
 */
export function checkGuardrails(input: GuardrailInput): GuardrailVerdict {
  const { target, config } = input;
  const ids = [target.objectId, target.appId].filter((v): v is string => v !== undefined);
  if (input.responderId !== undefined && ids.includes(input.responderId)) {
    return { action: 'skip', reason: "This is the responder's own identity; it never acts on itself. A human must handle it." };
  }
  if (target.appOwnerOrganizationId !== undefined && MICROSOFT_TENANTS.has(target.appOwnerOrganizationId)) {
    return { action: 'skip', reason: 'Microsoft first-party service principal; disabling it could break the tenant. A human must handle it.' };
  }
  if (ids.some((id) => config.PROTECTED_IDENTITIES.includes(id))) {
    return { action: 'skip', reason: 'Listed in PROTECTED_IDENTITIES; never acted on automatically. A human must handle it.' };
  }
  if (input.approved) {
    return { action: 'run' };
  }
  if (target.kind === 'agentBlueprintPrincipal') {
    return { action: 'hold', reason: 'Agent blueprint principal: disabling it disables every agent of the blueprint, so it waits for approval.' };
  }
  if (ids.some((id) => config.REQUIRE_APPROVAL_IDENTITIES.includes(id))) {
    return { action: 'hold', reason: 'Listed in REQUIRE_APPROVAL_IDENTITIES: containment waits for approval.' };
  }
  if (input.direct && config.DIRECT_REQUESTS_REQUIRE_APPROVAL) {
    return { action: 'hold', reason: 'No Sentinel incident to verify the request against (direct request, or an alert without an incident): containment waits for approval.' };
  }
  return { action: 'run' };
}

const BLAST_PARTITION = 'blast-slot';

/**
 * The blast-radius limit, shared by every planner that cuts access (containment, lifecycle expiry): takes one
 * of `BLAST_RADIUS_PER_HOUR` rolling one-hour slots for this target, once. Returns the hold reason when the
 * limit is reached (the action then waits for approval), undefined when the target may go ahead.
 */
export async function checkBlastRadius(
  deps: { keys: KeyStore; config: Pick<Config, 'BLAST_RADIUS_PER_HOUR'>; now: () => number },
  caseId: string,
  target: Pick<TargetRecord, 'key'>,
): Promise<string | undefined> {
  const now = deps.now();
  const admitted = await deps.keys.takeSlot(BLAST_PARTITION, deps.config.BLAST_RADIUS_PER_HOUR, `${caseId}|${target.key}`, now, now + 3_600_000);
  return admitted ? undefined : `Blast-radius limit reached (${deps.config.BLAST_RADIUS_PER_HOUR} per rolling hour): waits for approval.`;
}
