import type { Severity } from '../alerts/alert-types';
import type { Config } from '../config';
import { kindFacts } from '../graph/identity-kinds';
import type { TargetRecord } from '../store/case-model';
import type { KeyStore, KeyValue } from '../store/key-store';
import type { Stored } from '../store/record-table';

/** Tenants that own Microsoft's first-party service principals (DESIGN.md, Rules). */
export const MICROSOFT_TENANTS: ReadonlySet<string> = new Set(['f8cdef31-a31e-4b4a-93e4-5f571e91255a', '72f988bf-86f1-41af-91ab-2d7cd011db47']);

export type GuardrailVerdict = { action: 'run' } | { action: 'skip'; reason: string } | { action: 'hold'; reason: string };

export interface GuardrailInput {
  target: Pick<TargetRecord, 'objectId' | 'appId' | 'kind' | 'appOwnerOrganizationId'>;
  responderId: string | undefined;
  config: Pick<Config, 'PROTECTED_IDENTITIES' | 'REQUIRE_APPROVAL_IDENTITIES' | 'CONTAIN_HUMAN_USERS'>;
  /** Nothing in Sentinel backs the target (a direct request, an entity trigger without an incident). */
  unverifiable: boolean;
  /** An approver already released the hold on this target. */
  approved: boolean;
}

/**
 * Decides, before any write, whether a resolved target may be acted on. Skips are absolute (no approval can
 * lift them): the responder itself, Microsoft first-party service principals, protected identities, and people
 * unless `CONTAIN_HUMAN_USERS` is on. Holds wait for a human: kinds whose access cut reaches further (blueprint
 * principals), identities listed as requiring approval, and anything Sentinel cannot back. The blast-radius
 * limit is applied after this, by the engine, because it needs a shared counter.
 */
export function checkGuardrails(input: GuardrailInput): GuardrailVerdict {
  const { target, config } = input;
  const ids = [target.objectId, target.appId].filter((v): v is string => v !== undefined);
  const facts = kindFacts(target.kind);
  if (input.responderId !== undefined && ids.includes(input.responderId)) {
    return { action: 'skip', reason: "This is the responder's own identity; it never acts on itself. A human must handle it." };
  }
  if (target.appOwnerOrganizationId !== undefined && MICROSOFT_TENANTS.has(target.appOwnerOrganizationId)) {
    return { action: 'skip', reason: 'Microsoft first-party service principal; disabling it could break the tenant. A human must handle it.' };
  }
  if (ids.some((id) => config.PROTECTED_IDENTITIES.includes(id))) {
    return { action: 'skip', reason: 'Listed in PROTECTED_IDENTITIES; never acted on automatically. A human must handle it.' };
  }
  if (facts.human && !config.CONTAIN_HUMAN_USERS) {
    return { action: 'skip', reason: 'A person, not an agent: people are confirmed compromised and signed out only when CONTAIN_HUMAN_USERS is on. A human must handle it.' };
  }
  if (input.approved) {
    return { action: 'run' };
  }
  if (facts.hold !== undefined) {
    return { action: 'hold', reason: facts.hold };
  }
  if (ids.some((id) => config.REQUIRE_APPROVAL_IDENTITIES.includes(id))) {
    return { action: 'hold', reason: 'Listed in REQUIRE_APPROVAL_IDENTITIES: containment waits for approval.' };
  }
  if (input.unverifiable) {
    return { action: 'hold', reason: 'No Sentinel incident or alert backs this request (a direct request, or an entity trigger without an incident): it waits for approval.' };
  }
  return { action: 'run' };
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { Informational: 0, Low: 1, Medium: 2, High: 3 };

/** Why a case's severity is below `MIN_INCIDENT_SEVERITY`, or undefined when it may act. */
export function belowMinimumSeverity(severity: Severity, minimum: Severity): string | undefined {
  return SEVERITY_RANK[severity] < SEVERITY_RANK[minimum] ? `Severity ${severity} is below MIN_INCIDENT_SEVERITY (${minimum}): not acted on automatically.` : undefined;
}

const BLAST_PARTITION = 'blast-slot';

/** Everything that takes or frees a blast-radius slot. */
export interface BlastRadiusDeps {
  keys: Pick<KeyStore, 'takeSlot' | 'freeSlot' | 'freeSlots' | 'readSlots'>;
  config: Pick<Config, 'BLAST_RADIUS_PER_HOUR'>;
  now: () => number;
}

/** The slot a target's plan round holds (one per case, target and round, so a re-run takes none). */
export function blastSlotOf(caseId: string, target: Pick<TargetRecord, 'key' | 'round'>): string {
  return `${caseId}|${target.key}|${target.round}`;
}

/**
 * The blast-radius limit, shared by every plan that cuts access (containment, lifecycle expiry): takes one of
 * `BLAST_RADIUS_PER_HOUR` rolling one-hour slots for this target, once. Returns the hold reason when the limit is
 * reached (the action then waits for approval), undefined when the target may go ahead.
 */
export async function takeBlastSlot(deps: BlastRadiusDeps, slot: string, readAhead?: Promise<Stored<KeyValue>[]>): Promise<string | undefined> {
  const now = deps.now();
  const admitted = await deps.keys.takeSlot(BLAST_PARTITION, deps.config.BLAST_RADIUS_PER_HOUR, slot, now, now + 3_600_000, readAhead);
  return admitted ? undefined : `Blast-radius limit reached (${deps.config.BLAST_RADIUS_PER_HOUR} per rolling hour): waits for approval.`;
}

/** The blast-radius slots as stored now, read ahead of a {@link takeBlastSlot} that may follow. */
export function readBlastSlots(deps: Pick<BlastRadiusDeps, 'keys'>): Promise<Stored<KeyValue>[]> {
  return deps.keys.readSlots(BLAST_PARTITION);
}

/** Gives a slot back (the target turned out not to act). */
export async function freeBlastSlot(deps: BlastRadiusDeps, slot: string): Promise<void> {
  await deps.keys.freeSlot(BLAST_PARTITION, slot, deps.now());
}

/** Gives slots back, reading the blast-radius partition once (the targets of a refused post). */
export async function freeBlastSlots(deps: Pick<BlastRadiusDeps, 'keys' | 'now'>, slots: readonly string[]): Promise<void> {
  await deps.keys.freeSlots(BLAST_PARTITION, slots, deps.now());
}
