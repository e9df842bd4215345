import { describe, expect, it } from 'vitest';
import { parseAlert } from '../../../shared/alerts/parse-alert';
import { ValidationError } from '../../../shared/errors';
import { AGENT_USER_OBJECT_ID, INCIDENT_ARM_ID, loadFixture, thrown } from './load-fixture';

describe('parseAlert: entity trigger', () => {
  it('takes the entity (no kind given) as an Account by object id, with the incident', () => {
    const alert = parseAlert(loadFixture('entity-trigger.json'));
    expect(alert).toMatchObject({
      source: 'entity',
      incidentArmId: INCIDENT_ARM_ID,
      severity: 'Medium',
      workspace: { subscriptionId: '11111111-2222-3333-4444-555555555555', resourceGroup: 'soc-rg', workspaceName: 'soc-ws' },
      targets: [
        { by: 'objectId', objectId: AGENT_USER_OBJECT_ID, upn: 'agent-user-01@contoso.onmicrosoft.com', name: 'agent-user-01' },
      ],
      rejected: [],
    });
    expect(alert.dedupeKey).toMatch(new RegExp(`^entity:${INCIDENT_ARM_ID.toLowerCase()}:[0-9a-f]{16}$`));
  });

  it('gives the same dedupe key across key order, key case and GUID case', () => {
    const a = parseAlert(loadFixture('entity-trigger.json')).dedupeKey;
    const b = parseAlert({
      incidentArmId: INCIDENT_ARM_ID.toUpperCase().replace('/SUBSCRIPTIONS/', '/subscriptions/'),
      entity: {
        Properties: {
          friendlyName: 'agent-user-01',
          displayName: 'Agent user 01',
          isDomainJoined: false,
          aadUserId: AGENT_USER_OBJECT_ID.toUpperCase(),
          aadTenantId: '70FBDAD0-0000-4000-8000-0000000000C1',
          upnSuffix: 'contoso.onmicrosoft.com',
          name: 'agent-user-01',
        },
      },
    }).dedupeKey;
    expect(b).toBe(a);
  });

  it('gives a different dedupe key for a different entity', () => {
    const body = loadFixture('entity-trigger.json');
    const a = parseAlert(body).dedupeKey;
    ((body.Entity as Record<string, unknown>).properties as Record<string, unknown>).Name = 'someone-else';
    expect(parseAlert(body).dedupeKey).not.toBe(a);
  });

  it('accepts a null IncidentArmID', () => {
    const body = loadFixture('entity-trigger.json');
    body.IncidentArmID = null;
    const alert = parseAlert(body);
    expect(alert.dedupeKey).toMatch(/^entity:none:[0-9a-f]{16}$/);
    expect(alert.incidentArmId).toBeUndefined();
    expect(alert.workspace).toBeUndefined();
  });

  it('refuses a malformed IncidentArmID and a non-object Entity, naming both', () => {
    const err = thrown(() => parseAlert({ Entity: 'agent', IncidentArmID: 'incident-1' })) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.fields.map((f) => f.field).sort()).toEqual(['Entity', 'IncidentArmID']);
  });

  it('rejects an entity of another kind', () => {
    const alert = parseAlert({ Entity: { kind: 'Host', properties: { hostName: 'vm1' } }, IncidentArmID: null });
    expect(alert.targets).toEqual([]);
    expect(alert.rejected).toEqual([
      { path: 'Entity', kind: 'Host', name: 'vm1', reason: 'entity kind Host identifies no Entra identity' },
    ]);
  });
});

describe('parseAlert: hostile entity trigger bodies', () => {
  it('refuses an Entity nested too deeply to hash, naming Entity', () => {
    const depth = 200;
    const body = JSON.parse(`{"Entity":{"properties":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`) as unknown;
    expect((thrown(() => parseAlert(body)) as ValidationError).fields).toEqual([
      { field: 'Entity', message: 'is nested too deeply' },
    ]);
  });

  it('reads __proto__ and constructor keys as data, not as the prototype', () => {
    const body = JSON.parse(
      '{"Entity":{"__proto__":{"kind":"Account"},"constructor":{"prototype":{"x":1}},"properties":{"__proto__":{"aadUserId":"aaaaaaaa-0000-4000-8000-000000000001"}}},"IncidentArmID":null}',
    ) as unknown;
    const alert = parseAlert(body);
    expect(alert.targets).toEqual([]);
    expect(({} as Record<string, unknown>).kind).toBeUndefined();
    expect(({} as Record<string, unknown>).aadUserId).toBeUndefined();
  });
});
