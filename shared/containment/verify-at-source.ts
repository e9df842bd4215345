import type { Config } from '../config';
import { parseAlert } from '../alerts/parse-alert';
import type { TargetRef } from '../alerts/alert-types';
import { parseIncidentArmId, workspaceKey } from '../sentinel/incident-arm-id';
import type { ArmEntity, Sentinel } from '../sentinel/sentinel-client';
import type { CaseRecord, TargetRecord } from '../store/case-model';

export type Verification =
  | { state: 'skipped'; detail: string }
  | { state: 'verified'; detail: string }
  | { state: 'unverifiable'; detail: string }
  | { state: 'not-found' | 'closed'; detail: string }
  | { state: 'mismatch'; detail: string; unnamed: string[]; sentinelEntities: ArmEntity[] };

/** Every identifier (object id, appId, UPN) an entity list names, lower-cased. */
export function namedIdentifiers(entities: readonly ArmEntity[], armId: string): Set<string> {
  const names = new Set<string>();
  // The incident-trigger parser already knows every entity shape and both casings: reuse it.
  const parsed = parseAlert({ object: { id: armId, properties: { title: 'verification', relatedEntities: entities } } });
  for (const t of parsed.targets) {
    identifiersOf(t).forEach((n) => names.add(n));
  }
  return names;
}

export function identifiersOf(ref: TargetRef): string[] {
  switch (ref.by) {
    case 'objectId':
      return ref.upn ? [ref.objectId, ref.upn] : [ref.objectId];
    case 'appId':
      return [ref.appId];
    case 'upn':
      return [ref.upn];
  }
}

/**
 * Zero-trust intake: before any write, re-read the incident and its entities from Sentinel (one round trip:
 * both reads in parallel) and check that the incident exists, is not closed, and really names each target.
 * Bodies without an incident id cannot be checked and are `unverifiable` (the caller holds them for approval).
 */
export async function verifyAtSource(
  deps: { sentinel: Sentinel; config: Pick<Config, 'SENTINEL_VERIFY' | 'SENTINEL_VERIFY_DISABLED_WORKSPACES'> },
  record: CaseRecord,
  targets: readonly TargetRecord[],
): Promise<Verification> {
  if (record.source === 'lifecycle' || record.source === 'drift' || record.source === 'release') {
    return { state: 'skipped', detail: 'raised by the responder itself' };
  }
  if (!deps.config.SENTINEL_VERIFY) {
    return { state: 'skipped', detail: 'SENTINEL_VERIFY is off' };
  }
  if (record.source === 'direct' && !record.incidentArmId) {
    return { state: 'unverifiable', detail: 'direct request without an incident' };
  }
  const id = record.incidentArmId ? parseIncidentArmId(record.incidentArmId) : undefined;
  if (!id || !record.incidentArmId) {
    return { state: 'unverifiable', detail: 'the body carries no incident ARM id to check against Sentinel' };
  }
  if (deps.config.SENTINEL_VERIFY_DISABLED_WORKSPACES.includes(workspaceKey(id))) {
    return { state: 'skipped', detail: `verification disabled for workspace ${workspaceKey(id)}` };
  }
  const [incident, entities] = await Promise.all([deps.sentinel.getIncident(id), deps.sentinel.listEntities(id).catch(() => undefined)]);
  if (!incident) {
    return { state: 'not-found', detail: `Sentinel has no incident ${record.incidentArmId}` };
  }
  if (incident.status.toLowerCase() === 'closed') {
    return { state: 'closed', detail: `incident is closed in Sentinel` };
  }
  const names = namedIdentifiers(entities ?? [], record.incidentArmId);
  const unnamed = targets.filter((t) => !identifiersOf(t.ref).some((n) => names.has(n))).map((t) => t.key);
  if (unnamed.length > 0) {
    return { state: 'mismatch', detail: `the incident in Sentinel does not name ${unnamed.join(', ')}`, unnamed, sentinelEntities: entities ?? [] };
  }
  return { state: 'verified', detail: `incident ${incident.status}, names all ${targets.length} target(s)` };
}
