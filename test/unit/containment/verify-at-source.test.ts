import { describe, expect, it } from 'vitest';
import type { TargetRef } from '../../../shared/alerts/alert-types';
import { targetKey } from '../../../shared/alerts/alert-types';
import { verifyAtSource, type Verification, type VerifyDeps } from '../../../shared/containment/verify-at-source';
import { UpstreamError, ValidationError } from '../../../shared/errors';
import type { PrepareRecord } from '../../../shared/plans/planner';
import { ALERT_INGESTION_GRACE_MS, type AlertLookup, type SourceAlert } from '../../../shared/sentinel/log-analytics-client';
import type { ArmEntity, IncidentState } from '../../../shared/sentinel/sentinel-client';

// The victim: an agent identity (object id) whose app has its own appId, and a user the incident really names.
const VICTIM_OID = 'a9e00000-0000-4000-8000-000000000001';
const NAMED_OID = 'a9e00000-0000-4000-8000-0000000000aa';
const APP_ID = 'b0000000-0000-4000-8000-000000000007';
const NAMED_UPN = 'invoice-agent@contoso.com';

const SUB = '11111111-2222-4333-8444-555555555555';
const INCIDENT = `/subscriptions/${SUB}/resourceGroups/soc-rg/providers/Microsoft.OperationalInsights/workspaces/soc-ws/providers/Microsoft.SecurityInsights/incidents/8f1c0000-0000-4000-8000-000000000001`;
const WORKSPACE = `${SUB}/soc-rg/soc-ws`;
const CUSTOMER_ID = 'c0570000-0000-4000-8000-00000000c0de';
const OTHER_CUSTOMER_ID = 'e0e00000-0000-4000-8000-00000000e0e0';
const ALERT_ID = 'a1e70000-0000-4000-8000-000000000001';
const NOW = Date.UTC(2026, 10, 20, 9, 0, 0);

/** Entities as ARM lists them for an incident. */
const account = (properties: Record<string, unknown>): ArmEntity => ({ kind: 'Account', properties });
const cloudApp = (appId: string): ArmEntity => ({ kind: 'CloudApplication', properties: { appId } });
/** The entity naming `invoice-agent@contoso.com` by UPN only: no object id. */
const upnOnly = account({ accountName: 'invoice-agent', upnSuffix: 'contoso.com' });

const byOid = (objectId: string, upn?: string): TargetRef => ({ by: 'objectId', objectId, ...(upn === undefined ? {} : { upn }) });
const byUpn = (upn: string): TargetRef => ({ by: 'upn', upn });
const byApp = (appId: string): TargetRef => ({ by: 'appId', appId });
const targets = (...refs: TargetRef[]) => refs.map((ref) => ({ key: targetKey(ref), ref }));

interface Source {
  incident?: IncidentState | undefined;
  entities?: unknown[];
  alert?: AlertLookup | Error;
  /** ARM's customer id of each `SENTINEL_WORKSPACES` entry, by `sub/rg/name`. */
  customerIds?: Record<string, string>;
  readFails?: Error;
  /** The entity read alone fails (the incident read answers). */
  entitiesFail?: Error;
}

/** Fake Sentinel and Log Analytics readers that record every read, so a test can say none was made. */
function fakeDeps(source: Source = {}, config: Partial<VerifyDeps['config']> = {}) {
  const reads: string[] = [];
  const deps: VerifyDeps = {
    sentinel: {
      getIncident: (id) => {
        reads.push(`incident ${id.incidentId}`);
        return source.readFails ? Promise.reject(source.readFails) : Promise.resolve(source.incident);
      },
      listEntities: (id) => {
        reads.push(`entities ${id.incidentId}`);
        const fails = source.readFails ?? source.entitiesFail;
        return fails ? Promise.reject(fails) : Promise.resolve((source.entities ?? []) as ArmEntity[]);
      },
      workspaceCustomerId: (ws) => {
        const key = `${ws.subscriptionId}/${ws.resourceGroup}/${ws.workspaceName}`;
        reads.push(`workspace ${key}`);
        return Promise.resolve(source.customerIds?.[key]);
      },
    },
    logAnalytics: {
      getAlert: (workspaceId, alertId) => {
        reads.push(`alert ${workspaceId} ${alertId}`);
        const alert = source.alert ?? { found: false };
        return alert instanceof Error ? Promise.reject(alert) : Promise.resolve(alert);
      },
    },
    config: { SENTINEL_VERIFY: true, SENTINEL_VERIFY_DISABLED_WORKSPACES: [], SENTINEL_WORKSPACES: [], ...config },
    now: () => NOW,
  };
  return { deps, reads };
}

const open = (severity = 'High', status = 'Active'): IncidentState => ({ armId: INCIDENT, title: 'Suspicious agent', severity, status });
/** A case from `source`; `null` for one that cites no incident. */
const incidentCase = (source: PrepareRecord['source'] = 'incident', incidentArmId: string | null = INCIDENT): PrepareRecord => ({
  caseId: 'case-1',
  source,
  ...(incidentArmId === null ? {} : { incidentArmId }),
});
const alertCase = (over: Partial<PrepareRecord> = {}): PrepareRecord => ({
  caseId: 'case-2',
  source: 'alert',
  alertId: ALERT_ID,
  workspaceCustomerId: CUSTOMER_ID,
  receivedAt: new Date(NOW - ALERT_INGESTION_GRACE_MS - 1).toISOString(),
  ...over,
});
const sourceAlert = (over: Partial<SourceAlert> = {}): AlertLookup => ({
  found: true,
  alert: {
    systemAlertId: ALERT_ID,
    workspaceId: CUSTOMER_ID,
    status: 'New',
    severity: 'High',
    displayName: 'Agent exfiltration',
    providerName: 'ASI Scheduled Alerts',
    productName: 'Azure Sentinel',
    timeGenerated: new Date(NOW).toISOString(),
    entities: [{ $id: '1', Type: 'account', AadUserId: VICTIM_OID }],
    ...over,
  },
});

/** The verdict of each target, by its key, as a plain object for readable assertions. */
const verdicts = (v: Verification) => Object.fromEntries(v.byKey);
const states = (v: Verification) => [...v.byKey.values()].map((verdict) => (verdict.state === 'refused' ? `refused${verdict.suspicious ? ' (suspicious)' : ''}` : verdict.state));

describe('verifyAtSource: like is matched with like (incident)', () => {
  it('verifies a target named by object id when the open incident names that object id, and reports its severity', async () => {
    const entities = [account({ aadUserId: VICTIM_OID.toUpperCase() })];
    const { deps } = fakeDeps({ incident: open('Low'), entities });
    const v = await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID)));
    expect(verdicts(v)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'verified', detail: 'the incident in Sentinel names it' } });
    expect(v.severity).toBe('Low');
    expect(v.sourceCopy).toEqual({ sentinelEntities: entities });
    expect(v.incidentMissing).toBeUndefined();
  });

  it('refuses a target named by object id when Sentinel names only its UPN (a forged aadUserId beside a genuine name)', async () => {
    const { deps } = fakeDeps({ incident: open(), entities: [upnOnly] });
    const v = await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID, NAMED_UPN)));
    expect(verdicts(v)).toEqual({
      [`oid:${VICTIM_OID}`]: { state: 'refused', suspicious: true, detail: `the incident in Sentinel does not name object id ${VICTIM_OID}` },
    });
  });

  it('refuses a target named by object id when Sentinel names another object id with the same UPN', async () => {
    const { deps } = fakeDeps({ incident: open(), entities: [account({ aadUserId: NAMED_OID, accountName: 'invoice-agent', upnSuffix: 'contoso.com' })] });
    const v = await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID, NAMED_UPN), byOid(NAMED_OID)));
    expect(states(v)).toEqual(['refused (suspicious)', 'verified']);
  });

  it('verifies a target named by UPN when Sentinel names that UPN, alone or beside an object id', async () => {
    for (const entity of [upnOnly, account({ aadUserId: NAMED_OID, accountName: 'Invoice-Agent', upnSuffix: 'Contoso.com' })]) {
      const { deps } = fakeDeps({ incident: open(), entities: [entity] });
      const v = await verifyAtSource(deps, incidentCase(), targets(byUpn(NAMED_UPN)));
      expect(verdicts(v), JSON.stringify(entity)).toEqual({ [`upn:${NAMED_UPN}`]: { state: 'verified', detail: 'the incident in Sentinel names it' } });
    }
  });

  it('refuses a target named by UPN that Sentinel does not name, and says which UPN', async () => {
    const { deps } = fakeDeps({ incident: open(), entities: [account({ aadUserId: VICTIM_OID })] });
    const v = await verifyAtSource(deps, incidentCase(), targets(byUpn('victim@contoso.com')));
    expect(verdicts(v)).toEqual({
      'upn:victim@contoso.com': { state: 'refused', suspicious: true, detail: 'the incident in Sentinel does not name UPN victim@contoso.com' },
    });
  });

  it('verifies a target named by appId only when Sentinel names that appId as an application', async () => {
    const { deps } = fakeDeps({ incident: open(), entities: [cloudApp(APP_ID.toUpperCase())] });
    const v = await verifyAtSource(deps, incidentCase(), targets(byApp(APP_ID)));
    expect(verdicts(v)).toEqual({ [`app:${APP_ID}`]: { state: 'verified', detail: 'the incident in Sentinel names it' } });
  });

  it('never lets an identifier of one kind vouch for another: an object id is not an appId, nor the reverse', async () => {
    // The same GUID named as an account object id and asked for as an appId, and the reverse.
    const asAccount = fakeDeps({ incident: open(), entities: [account({ aadUserId: APP_ID })] });
    const asApp = fakeDeps({ incident: open(), entities: [cloudApp(VICTIM_OID)] });
    const appTarget = await verifyAtSource(asAccount.deps, incidentCase(), targets(byApp(APP_ID), byUpn(NAMED_UPN)));
    const oidTarget = await verifyAtSource(asApp.deps, incidentCase(), targets(byOid(VICTIM_OID), byUpn(NAMED_UPN)));
    expect(verdicts(appTarget)[`app:${APP_ID}`]).toEqual({ state: 'refused', suspicious: true, detail: `the incident in Sentinel does not name appId ${APP_ID}` });
    expect(states(appTarget)).toEqual(['refused (suspicious)', 'refused (suspicious)']);
    expect(states(oidTarget)).toEqual(['refused (suspicious)', 'refused (suspicious)']);
  });

  it('matches identifiers in any letter case', async () => {
    const { deps } = fakeDeps({ incident: open(), entities: [account({ aadUserId: VICTIM_OID }), upnOnly, cloudApp(APP_ID)] });
    const v = await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID.toUpperCase()), byUpn(NAMED_UPN.toUpperCase()), byApp(APP_ID.toUpperCase())));
    expect(states(v)).toEqual(['verified', 'verified', 'verified']);
  });

  it('counts no target as named when Sentinel names nobody: entities it cannot read, other kinds, an empty list', async () => {
    const unreadable = [{ kind: 'Account', properties: { aadUserId: 'x'.repeat(100_000) } }, { kind: 'Ip', properties: { address: VICTIM_OID } }, null, 'Account'];
    for (const entities of [unreadable, []]) {
      const { deps } = fakeDeps({ incident: open(), entities });
      const v = await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID), byUpn(NAMED_UPN), byApp(APP_ID)));
      expect(states(v)).toEqual(['refused (suspicious)', 'refused (suspicious)', 'refused (suspicious)']);
    }
  });

  it('still reads the entities Sentinel can name after one it cannot read', async () => {
    const entities = [{ kind: 'Account', properties: { aadUserId: 'x'.repeat(100_000) } }, account({ aadUserId: VICTIM_OID })];
    const { deps } = fakeDeps({ incident: open(), entities });
    expect(states(await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID))))).toEqual(['verified']);
  });
});

describe('verifyAtSource: the incident must exist and be open', () => {
  it('refuses every target of an incident Sentinel does not have, as suspicious', async () => {
    const { deps } = fakeDeps({ incident: undefined, entities: [account({ aadUserId: VICTIM_OID })] });
    const v = await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID), byUpn(NAMED_UPN)));
    expect(Object.values(verdicts(v))).toEqual([
      { state: 'refused', suspicious: true, detail: `Sentinel has no incident ${INCIDENT}` },
      { state: 'refused', suspicious: true, detail: `Sentinel has no incident ${INCIDENT}` },
    ]);
    expect(v.severity).toBeUndefined();
    expect(v.incidentMissing).toBe(true);
  });

  it('refuses, as a missing incident, one whose entity read ARM answers 404 though the incident read found it', async () => {
    const gone = new UpstreamError({ service: 'ARM', transient: false, message: 'NotFound', httpStatus: 404 });
    const { deps } = fakeDeps({ incident: open(), entitiesFail: gone });
    const v = await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID)));
    expect(verdicts(v)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'refused', suspicious: true, detail: `Sentinel has no incident ${INCIDENT}` } });
    expect(v.incidentMissing).toBe(true);
  });

  it('lets a throttled or failed entity read throw, though the incident read answered: never "names nobody" nor "no incident"', async () => {
    const failures = [
      new UpstreamError({ service: 'ARM', transient: true, message: 'throttled', httpStatus: 429 }),
      new UpstreamError({ service: 'ARM', transient: true, message: 'unavailable', httpStatus: 503 }),
      Object.assign(new Error('socket hang up'), { httpStatus: 404 }),
    ];
    for (const failure of failures) {
      const { deps } = fakeDeps({ incident: open(), entitiesFail: failure });
      await expect(verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID))), failure.message).rejects.toBe(failure);
    }
  });

  it('refuses every target of a closed incident, in any letter case, not as a forgery, even when it names them', async () => {
    for (const status of ['Closed', 'closed', 'CLOSED']) {
      const { deps } = fakeDeps({ incident: open('Medium', status), entities: [account({ aadUserId: VICTIM_OID })] });
      const v = await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID)));
      expect(verdicts(v), status).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'refused', suspicious: false, detail: 'the incident is closed in Sentinel' } });
      expect(v.severity).toBe('Medium');
    }
  });

  it('acts on a New or Active incident', async () => {
    for (const status of ['New', 'Active']) {
      const { deps } = fakeDeps({ incident: open('High', status), entities: [account({ aadUserId: VICTIM_OID })] });
      expect(states(await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID)))), status).toEqual(['verified']);
    }
  });

  it('takes an unknown incident severity as Medium', async () => {
    const { deps } = fakeDeps({ incident: open('Critical'), entities: [account({ aadUserId: VICTIM_OID })] });
    expect((await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID)))).severity).toBe('Medium');
  });

  it('lets a failed read throw (the case is retried), never turning it into "names nobody"', async () => {
    const failure = new UpstreamError({ service: 'ARM', transient: true, message: 'throttled', httpStatus: 429 });
    const { deps } = fakeDeps({ readFails: failure });
    await expect(verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID)))).rejects.toBe(failure);
  });
});

describe('verifyAtSource: settings and sources that cannot be checked', () => {
  it('skips, without reading Sentinel, cases the responder raised itself (lifecycle, drift)', async () => {
    for (const source of ['lifecycle', 'drift'] as const) {
      const { deps, reads } = fakeDeps({ incident: undefined });
      const v = await verifyAtSource(deps, incidentCase(source), targets(byOid(VICTIM_OID)));
      expect(verdicts(v), source).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'skipped', detail: 'raised by the responder itself' } });
      expect(reads).toEqual([]);
    }
  });

  it('acts on an incident as posted, without reading it, when SENTINEL_VERIFY is off', async () => {
    const { deps, reads } = fakeDeps({ incident: undefined }, { SENTINEL_VERIFY: false });
    const v = await verifyAtSource(deps, incidentCase(), targets(byOid(VICTIM_OID)));
    expect(verdicts(v)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'skipped', detail: 'SENTINEL_VERIFY is off: acting on the posted body alone' } });
    expect(reads).toEqual([]);
  });

  it('acts on an incident as posted when verification is off for its workspace only, and reads incidents of other workspaces', async () => {
    const off = fakeDeps({ incident: undefined }, { SENTINEL_VERIFY_DISABLED_WORKSPACES: [WORKSPACE] });
    const v = await verifyAtSource(off.deps, incidentCase(), targets(byOid(VICTIM_OID)));
    expect(verdicts(v)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'skipped', detail: `verification is off for workspace ${WORKSPACE}: acting on the posted body alone` } });
    expect(off.reads).toEqual([]);

    const other = fakeDeps({ incident: undefined }, { SENTINEL_VERIFY_DISABLED_WORKSPACES: [`${SUB}/soc-rg/other-ws`] });
    expect(states(await verifyAtSource(other.deps, incidentCase(), targets(byOid(VICTIM_OID))))).toEqual(['refused (suspicious)']);
    expect(other.reads).toEqual(['incident 8f1c0000-0000-4000-8000-000000000001', 'entities 8f1c0000-0000-4000-8000-000000000001']);
  });

  it('holds a direct request whatever the verification settings: it is never skipped', async () => {
    const settings: Partial<VerifyDeps['config']>[] = [{ SENTINEL_VERIFY: false }, { SENTINEL_VERIFY_DISABLED_WORKSPACES: [WORKSPACE] }];
    for (const config of settings) {
      const { deps, reads } = fakeDeps({ incident: open(), entities: [account({ aadUserId: VICTIM_OID })] }, config);
      const v = await verifyAtSource(deps, incidentCase('direct'), targets(byOid(VICTIM_OID)));
      expect(verdicts(v), JSON.stringify(config)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'unverifiable', detail: 'a direct request: always held for approval' } });
      expect(reads).toEqual([]);
    }
  });

  it('holds a direct request that cites no incident, or one that is not an incident id', async () => {
    for (const incidentArmId of [null, '/subscriptions/x/whatever']) {
      const { deps, reads } = fakeDeps();
      const v = await verifyAtSource(deps, incidentCase('direct', incidentArmId), targets(byOid(VICTIM_OID)));
      expect(verdicts(v)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'unverifiable', detail: 'a direct request: always held for approval' } });
      expect(reads).toEqual([]);
    }
  });

  it('never verifies a direct request through the incident it cites, though that incident may refuse it', async () => {
    const { deps } = fakeDeps({ incident: open(), entities: [account({ aadUserId: VICTIM_OID })] });
    const v = await verifyAtSource(deps, incidentCase('direct'), targets(byOid(VICTIM_OID), byOid(NAMED_OID)));
    expect(verdicts(v)).toEqual({
      [`oid:${VICTIM_OID}`]: { state: 'unverifiable', detail: 'a direct request: always held for approval; the incident it cites names it' },
      [`oid:${NAMED_OID}`]: { state: 'refused', suspicious: true, detail: `the incident in Sentinel does not name object id ${NAMED_OID}` },
    });
  });

  it('refuses a direct request citing a closed incident', async () => {
    const { deps } = fakeDeps({ incident: open('High', 'Closed'), entities: [account({ aadUserId: VICTIM_OID })] });
    expect(states(await verifyAtSource(deps, incidentCase('direct'), targets(byOid(VICTIM_OID))))).toEqual(['refused']);
  });

  it('holds an entity trigger without an incident: nothing in Sentinel to check it against', async () => {
    const { deps, reads } = fakeDeps();
    const v = await verifyAtSource(deps, incidentCase('entity', null), targets(byOid(VICTIM_OID)));
    expect(verdicts(v)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'unverifiable', detail: 'the body names no incident to check against Sentinel' } });
    expect(reads).toEqual([]);
  });
});

describe('verifyAtSource: alerts are re-read from their workspace', () => {
  it('verifies a target the alert names, with the alert severity and its entities kept as the source copy', async () => {
    const lookup = sourceAlert({ severity: 'informational' });
    const { deps, reads } = fakeDeps({ alert: lookup });
    const v = await verifyAtSource(deps, alertCase(), targets(byOid(VICTIM_OID)));
    expect(verdicts(v)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'verified', detail: 'the alert in Sentinel names it' } });
    expect(v.severity).toBe('Informational');
    expect(v.sourceCopy).toEqual({ alertEntities: lookup.found ? lookup.alert.entities : undefined });
    expect(reads).toEqual([`alert ${CUSTOMER_ID} ${ALERT_ID}`]);
  });

  it('refuses, as suspicious, a target the alert does not name like with like', async () => {
    const { deps } = fakeDeps({ alert: sourceAlert({ entities: [{ $id: '1', Type: 'account', Name: 'invoice-agent', UPNSuffix: 'contoso.com' }] }) });
    const v = await verifyAtSource(deps, alertCase(), targets(byOid(VICTIM_OID, NAMED_UPN), byUpn(NAMED_UPN)));
    expect(verdicts(v)).toEqual({
      [`oid:${VICTIM_OID}`]: { state: 'refused', suspicious: true, detail: `the alert in Sentinel does not name object id ${VICTIM_OID}` },
      [`upn:${NAMED_UPN}`]: { state: 'verified', detail: 'the alert in Sentinel names it' },
    });
  });

  it('refuses every target of a resolved or dismissed alert, in any letter case, not as a forgery', async () => {
    for (const status of ['Resolved', 'dismissed', 'DISMISSED']) {
      const { deps } = fakeDeps({ alert: sourceAlert({ status, severity: 'Low' }) });
      const v = await verifyAtSource(deps, alertCase(), targets(byOid(VICTIM_OID)));
      expect(verdicts(v), status).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'refused', suspicious: false, detail: `the alert is ${status} in Sentinel` } });
      expect(v.severity).toBe('Low');
    }
  });

  it('acts on a New or InProgress alert, or one whose provider sets no status', async () => {
    for (const status of ['New', 'InProgress', '']) {
      const { deps } = fakeDeps({ alert: sourceAlert({ status }) });
      expect(states(await verifyAtSource(deps, alertCase(), targets(byOid(VICTIM_OID)))), status).toEqual(['verified']);
    }
  });

  it('acts on the posted alert alone, without reading it, when SENTINEL_VERIFY is off', async () => {
    const { deps, reads } = fakeDeps({ alert: new Error('must not be read') }, { SENTINEL_VERIFY: false });
    const v = await verifyAtSource(deps, alertCase(), targets(byOid(VICTIM_OID)));
    expect(verdicts(v)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'skipped', detail: 'SENTINEL_VERIFY is off: acting on the posted alert alone' } });
    expect(reads).toEqual([]);
  });

  it('holds an alert that names no workspace id or no alert id: it cannot be read back', async () => {
    for (const over of [{ workspaceCustomerId: undefined }, { alertId: undefined }, { workspaceCustomerId: '' }]) {
      const { deps, reads } = fakeDeps({ alert: sourceAlert() });
      const v = await verifyAtSource(deps, alertCase(over), targets(byOid(VICTIM_OID)));
      expect(verdicts(v), JSON.stringify(over)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'unverifiable', detail: 'the alert body names no workspace id to read the alert back from' } });
      expect(reads).toEqual([]);
    }
  });

  it('refuses, without reading the alert, one posted with a workspace id that is not one of SENTINEL_WORKSPACES', async () => {
    const { deps, reads } = fakeDeps({ alert: sourceAlert(), customerIds: { [WORKSPACE]: CUSTOMER_ID } }, { SENTINEL_WORKSPACES: [WORKSPACE] });
    const v = await verifyAtSource(deps, alertCase({ workspaceCustomerId: OTHER_CUSTOMER_ID }), targets(byOid(VICTIM_OID)));
    expect(verdicts(v)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'refused', suspicious: true, detail: `workspace id ${OTHER_CUSTOMER_ID} is not one of SENTINEL_WORKSPACES` } });
    expect(reads).toEqual([`workspace ${WORKSPACE}`]);
  });

  it('refuses an alert from a workspace ARM does not know, rather than taking it as ours', async () => {
    const { deps } = fakeDeps({ alert: sourceAlert(), customerIds: {} }, { SENTINEL_WORKSPACES: [WORKSPACE] });
    expect(states(await verifyAtSource(deps, alertCase(), targets(byOid(VICTIM_OID))))).toEqual(['refused (suspicious)']);
  });

  it('reads an alert from any of our workspaces, matching the customer id in any letter case', async () => {
    const second = `${SUB}/soc-rg/second-ws`;
    const { deps, reads } = fakeDeps({ alert: sourceAlert(), customerIds: { [WORKSPACE]: OTHER_CUSTOMER_ID, [second]: CUSTOMER_ID } }, { SENTINEL_WORKSPACES: [WORKSPACE, second] });
    const v = await verifyAtSource(deps, alertCase({ workspaceCustomerId: CUSTOMER_ID.toUpperCase() }), targets(byOid(VICTIM_OID)));
    expect(states(v)).toEqual(['verified']);
    expect(reads).toEqual([`workspace ${WORKSPACE}`, `workspace ${second}`, `alert ${CUSTOMER_ID.toUpperCase()} ${ALERT_ID}`]);
  });

  it('reads the alert from the posted workspace when SENTINEL_WORKSPACES is empty (any workspace allowed)', async () => {
    const { deps, reads } = fakeDeps({ alert: sourceAlert() });
    expect(states(await verifyAtSource(deps, alertCase(), targets(byOid(VICTIM_OID))))).toEqual(['verified']);
    expect(reads).toEqual([`alert ${CUSTOMER_ID} ${ALERT_ID}`]);
  });

  it('refuses an alert id Sentinel never issues, as suspicious', async () => {
    const { deps } = fakeDeps({ alert: new ValidationError('The alert id is not one Sentinel issues') });
    const v = await verifyAtSource(deps, alertCase({ alertId: "x' | union *" }), targets(byOid(VICTIM_OID)));
    expect(verdicts(v)).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'refused', suspicious: true, detail: "the alert id x' | union * is not one Sentinel issues" } });
  });

  it('quotes at most 80 characters of a refused alert id', async () => {
    const { deps } = fakeDeps({ alert: new ValidationError('The alert id is not one Sentinel issues') });
    const v = await verifyAtSource(deps, alertCase({ alertId: `${'a'.repeat(80)}TAIL` }), targets(byOid(VICTIM_OID)));
    expect(verdicts(v)[`oid:${VICTIM_OID}`]?.detail).toBe(`the alert id ${'a'.repeat(80)} is not one Sentinel issues`);
  });

  it('lets a failed alert read throw (retried later), never turning it into a verdict', async () => {
    const failure = new UpstreamError({ service: 'Log Analytics', transient: true, message: 'timed out' });
    const { deps } = fakeDeps({ alert: failure });
    await expect(verifyAtSource(deps, alertCase(), targets(byOid(VICTIM_OID)))).rejects.toBe(failure);
  });

  it('looks again later for an alert not yet in its workspace, within the ingestion grace', async () => {
    for (const receivedAt of [new Date(NOW - ALERT_INGESTION_GRACE_MS + 1).toISOString(), new Date(NOW).toISOString(), undefined]) {
      const { deps } = fakeDeps({ alert: { found: false } });
      const record = alertCase(receivedAt === undefined ? {} : { receivedAt });
      if (receivedAt === undefined) {
        delete record.receivedAt;
      }
      const error = await verifyAtSource(deps, record, targets(byOid(VICTIM_OID))).catch((err: unknown) => err);
      expect(error, String(receivedAt)).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ transient: true, retryAfterMs: 30_000, service: 'Log Analytics' });
      // The retry says which alert it waits for, in which workspace: the operator reads it in the case.
      expect((error as Error).message).toBe(`alert ${ALERT_ID} is not in workspace ${CUSTOMER_ID} yet; looking again`);
    }
  });

  it('refuses, as suspicious, an alert still missing from its workspace once the ingestion grace has passed', async () => {
    for (const receivedAt of [new Date(NOW - ALERT_INGESTION_GRACE_MS).toISOString(), new Date(NOW - 2 * ALERT_INGESTION_GRACE_MS).toISOString()]) {
      const { deps } = fakeDeps({ alert: { found: false } });
      const v = await verifyAtSource(deps, alertCase({ receivedAt }), targets(byOid(VICTIM_OID)));
      expect(verdicts(v), receivedAt).toEqual({ [`oid:${VICTIM_OID}`]: { state: 'refused', suspicious: true, detail: `workspace ${CUSTOMER_ID} has no alert ${ALERT_ID}` } });
    }
  });
});

// Mutants `npm run test:mutation` leaves alive in verify-at-source.ts, each equivalent (no input tells it apart):
// - namedIdentifiers: the path handed to entityToTarget (`[${i}]`) only names a field in the error it throws, which
//   is caught and dropped: an entity no posted body could carry names nobody, whatever its path says.
// - namedIdentifiers: `if (ref.upn)` made `true` adds `undefined` to the UPN set for an object id without a display
//   UPN; isNamed only looks up strings, so it never vouches for anyone.
// - ourWorkspace: the `= ''` defaults of `w.split('/')` (no coverage) are never used: config accepts a
//   SENTINEL_WORKSPACES entry only as subscriptionId/resourceGroup/workspaceName, always three parts.
