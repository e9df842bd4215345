import type { Severity, TargetRef } from '../alerts/alert-types';
import { entityToTarget } from '../alerts/entity-to-target';
import { normalizeSeverity } from '../alerts/normalize-severity';
import type { Config } from '../config';
import type { PrepareRecord, SourceVerdict } from '../plans/planner';
import { parseIncidentArmId, workspaceKey } from '../sentinel/incident-arm-id';
import type { Sentinel } from '../sentinel/sentinel-client';
import { ALERT_INGESTION_GRACE_MS, type LogAnalytics } from '../sentinel/log-analytics-client';
import { UpstreamError, ValidationError } from '../errors';

export interface VerifyDeps {
  sentinel: Pick<Sentinel, 'getIncident' | 'listEntities' | 'workspaceCustomerId'>;
  logAnalytics: Pick<LogAnalytics, 'getAlert'>;
  config: Pick<Config, 'SENTINEL_VERIFY' | 'SENTINEL_VERIFY_DISABLED_WORKSPACES' | 'SENTINEL_WORKSPACES'>;
  now: () => number;
}

export interface Verification {
  byKey: Map<string, SourceVerdict>;
  /** Sentinel's severity of the incident or alert, when it was read. */
  severity?: Severity;
  /** Sentinel's own entities, kept beside the posted body when a target is refused as suspicious. */
  sourceCopy?: unknown;
  /** Sentinel answered that the incident does not exist: nothing to comment on. */
  incidentMissing?: true;
}

/** Alert states that mean someone already decided the alert needs nothing more (like a closed incident). */
const DECIDED_ALERT = new Set(['resolved', 'dismissed']);

/** The identifiers a source's entities name, each kind apart: an identifier of one kind never vouches for another. */
export interface NamedIdentifiers {
  objectIds: Set<string>;
  upns: Set<string>;
  appIds: Set<string>;
}

/**
 * What a list of Sentinel entities names, read with the same entity rules as the intake. Entities that name no
 * one are simply not counted (Sentinel's copy is not validated like a posted body).
 */
export function namedIdentifiers(entities: readonly unknown[]): NamedIdentifiers {
  const named: NamedIdentifiers = { objectIds: new Set(), upns: new Set(), appIds: new Set() };
  entities.forEach((entity, i) => {
    let outcome;
    try {
      outcome = entityToTarget(entity, `[${i}]`);
    } catch {
      return; // an entity Sentinel holds that no posted body could carry: it names nobody we would act on
    }
    if (!('target' in outcome)) {
      return;
    }
    const ref = outcome.target;
    if (ref.by === 'objectId') {
      named.objectIds.add(ref.objectId);
      if (ref.upn) {
        named.upns.add(ref.upn);
      }
    } else if (ref.by === 'upn') {
      named.upns.add(ref.upn);
    } else {
      named.appIds.add(ref.appId);
    }
  });
  return named;
}

/**
 * Like is matched with like: a target named by object id is backed only if the source names that object id; by
 * UPN only if it names that UPN; by appId only if it names that appId. The UPN a posted body puts beside an object
 * id is display only and vouches for nothing.
 */
export function isNamed(ref: TargetRef, named: NamedIdentifiers): boolean {
  switch (ref.by) {
    case 'objectId':
      return named.objectIds.has(ref.objectId.toLowerCase());
    case 'upn':
      return named.upns.has(ref.upn.toLowerCase());
    case 'appId':
      return named.appIds.has(ref.appId.toLowerCase());
  }
}

/**
 * Zero-trust intake: before any write, read the incident (ARM) or the alert (Log Analytics) back from Sentinel
 * and check, per target, that it exists, is still open, and names the target like with like. Only what Sentinel
 * answered can refuse a target: a failed, throttled or timed-out read throws (the case is retried later), it is
 * never taken for "names nobody". Direct requests and entity triggers without an incident cannot be checked:
 * they are `unverifiable`, which the engine holds for approval whatever the settings.
 */
export async function verifyAtSource(deps: VerifyDeps, record: PrepareRecord, targets: readonly { key: string; ref: TargetRef }[]): Promise<Verification> {
  const all = (verdict: SourceVerdict): Verification => ({ byKey: new Map(targets.map((t) => [t.key, verdict])) });
  if (record.source === 'lifecycle' || record.source === 'drift') {
    return all({ state: 'skipped', detail: 'raised by the responder itself' });
  }
  const unverifiable = record.source === 'direct' ? 'a direct request: always held for approval' : undefined;

  if (record.source === 'alert') {
    if (!deps.config.SENTINEL_VERIFY) {
      return all({ state: 'skipped', detail: 'SENTINEL_VERIFY is off: acting on the posted alert alone' });
    }
    if (!record.workspaceCustomerId || !record.alertId) {
      return all({ state: 'unverifiable', detail: 'the alert body names no workspace id to read the alert back from' });
    }
    // The workspace id is posted, not proven: it must be one of our Sentinel workspaces, or an alert from any
    // workspace the responder can read would vouch for itself.
    const ours = await ourWorkspace(deps, record.workspaceCustomerId);
    if (ours === false) {
      return all({ state: 'refused', suspicious: true, detail: `workspace id ${record.workspaceCustomerId} is not one of SENTINEL_WORKSPACES` });
    }
    let lookup;
    try {
      lookup = await deps.logAnalytics.getAlert(record.workspaceCustomerId, record.alertId);
    } catch (err) {
      if (err instanceof ValidationError) {
        return all({ state: 'refused', suspicious: true, detail: `the alert id ${record.alertId.slice(0, 80)} is not one Sentinel issues` });
      }
      throw err;
    }
    if (!lookup.found) {
      // Alerts reach their workspace a few minutes after they are raised: not there yet is not an answer.
      if (deps.now() - Date.parse(record.receivedAt ?? new Date(deps.now()).toISOString()) < ALERT_INGESTION_GRACE_MS) {
        throw new UpstreamError({ service: 'Log Analytics', transient: true, retryAfterMs: 30_000, message: `alert ${record.alertId} is not in workspace ${record.workspaceCustomerId} yet; looking again` });
      }
      return all({ state: 'refused', suspicious: true, detail: `workspace ${record.workspaceCustomerId} has no alert ${record.alertId}` });
    }
    const alert = lookup.alert;
    const severity = normalizeSeverity(alert.severity);
    if (DECIDED_ALERT.has(alert.status.toLowerCase())) {
      return { ...all({ state: 'refused', suspicious: false, detail: `the alert is ${alert.status} in Sentinel` }), severity };
    }
    return { ...match(targets, namedIdentifiers(alert.entities), 'the alert'), severity, sourceCopy: { alertEntities: alert.entities } };
  }

  const id = record.incidentArmId ? parseIncidentArmId(record.incidentArmId) : undefined;
  if (!id) {
    return all({ state: 'unverifiable', detail: unverifiable ?? 'the body names no incident to check against Sentinel' });
  }
  const off = !deps.config.SENTINEL_VERIFY
    ? 'SENTINEL_VERIFY is off'
    : deps.config.SENTINEL_VERIFY_DISABLED_WORKSPACES.includes(workspaceKey(id))
      ? `verification is off for workspace ${workspaceKey(id)}`
      : undefined;
  if (off !== undefined) {
    // A direct request stays held whatever the settings; an incident is acted on as posted, loudly (see run-case).
    return all(unverifiable ? { state: 'unverifiable', detail: unverifiable } : { state: 'skipped', detail: `${off}: acting on the posted body alone` });
  }
  const [incident, entities] = await Promise.all([
    deps.sentinel.getIncident(id),
    deps.sentinel.listEntities(id).catch((err: unknown) => {
      // ARM's answer that the incident does not exist, to the entity read: the same verdict as to the incident read.
      if (err instanceof UpstreamError && err.httpStatus === 404) {
        return undefined;
      }
      throw err;
    }),
  ]);
  if (!incident || !entities) {
    return { ...all({ state: 'refused', suspicious: true, detail: `Sentinel has no incident ${record.incidentArmId}` }), incidentMissing: true };
  }
  const severity = normalizeSeverity(incident.severity);
  if (incident.status.toLowerCase() === 'closed') {
    return { ...all({ state: 'refused', suspicious: false, detail: 'the incident is closed in Sentinel' }), severity };
  }
  const matched = match(targets, namedIdentifiers(entities), 'the incident');
  if (unverifiable) {
    // The cited incident may refuse a direct request; it never verifies one.
    for (const [key, verdict] of matched.byKey) {
      if (verdict.state === 'verified') {
        matched.byKey.set(key, { state: 'unverifiable', detail: `${unverifiable}; the incident it cites names it` });
      }
    }
  }
  return { ...matched, severity, sourceCopy: { sentinelEntities: entities } };
}

/**
 * Whether a Log Analytics workspace (customer) id is one of `SENTINEL_WORKSPACES`, through ARM's record of each
 * (`properties.customerId`, cached); `undefined` when the list is empty (INTAKE_ALLOW_ANY_WORKSPACE).
 */
async function ourWorkspace(deps: Pick<VerifyDeps, 'sentinel' | 'config'>, customerId: string): Promise<boolean | undefined> {
  if (deps.config.SENTINEL_WORKSPACES.length === 0) {
    return undefined;
  }
  const ids = await Promise.all(
    deps.config.SENTINEL_WORKSPACES.map((w) => {
      const [subscriptionId = '', resourceGroup = '', workspaceName = ''] = w.split('/');
      return deps.sentinel.workspaceCustomerId({ subscriptionId, resourceGroup, workspaceName });
    }),
  );
  return ids.includes(customerId.toLowerCase());
}

function match(targets: readonly { key: string; ref: TargetRef }[], named: NamedIdentifiers, what: string): Verification {
  const byKey = new Map<string, SourceVerdict>();
  for (const t of targets) {
    byKey.set(
      t.key,
      isNamed(t.ref, named)
        ? { state: 'verified', detail: `${what} in Sentinel names it` }
        : { state: 'refused', suspicious: true, detail: `${what} in Sentinel does not name ${describeRef(t.ref)}` },
    );
  }
  return { byKey };
}

function describeRef(ref: TargetRef): string {
  return ref.by === 'objectId' ? `object id ${ref.objectId}` : ref.by === 'upn' ? `UPN ${ref.upn}` : `appId ${ref.appId}`;
}
