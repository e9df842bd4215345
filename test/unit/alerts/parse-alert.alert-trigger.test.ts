import { describe, expect, it } from 'vitest';
import { parseAlert } from '../../../shared/alerts/parse-alert';
import { ValidationError } from '../../../shared/errors';
import { loadFixture, SP_OBJECT_ID, SYSTEM_ALERT_ID, thrown } from './load-fixture';

describe.each(['entities-array', 'entities-string'])('parseAlert: alert trigger (%s)', (variant) => {
  const body = (): Record<string, unknown> => loadFixture(`alert-trigger.${variant}.json`);

  it('reads the alert envelope without an incident id', () => {
    const alert = parseAlert(body());
    expect(alert).toMatchObject({
      source: 'alert',
      alertId: SYSTEM_ALERT_ID,
      dedupeKey: `alert:${SYSTEM_ALERT_ID}`,
      title: 'Agent identity signed in from an anonymising proxy',
      severity: 'Medium',
      workspace: { subscriptionId: '11111111-2222-3333-4444-555555555555', resourceGroup: 'soc-rg' },
    });
    expect(alert.incidentArmId).toBeUndefined();
    expect(alert.eventType).toBeUndefined();
  });

  it('takes flat lower-case entities, collapsing the service principal listed twice', () => {
    const { targets } = parseAlert(body());
    expect(targets).toEqual([
      { by: 'objectId', objectId: SP_OBJECT_ID, name: 'invoice-agent' },
      { by: 'upn', upn: 'agent-user-02@contoso.onmicrosoft.com', name: 'agent-user-02' },
    ]);
  });

  it('rejects an Account with an empty UPN suffix, a Defender app id and an Ip, with reasons', () => {
    const { rejected } = parseAlert(body());
    expect(rejected).toEqual([
      {
        path: 'Entities[2]',
        kind: 'account',
        name: 'svc-mailer',
        reason: 'Account has no aadUserId and an empty UPNSuffix: "name@" is not a UPN',
      },
      {
        path: 'Entities[3]',
        kind: 'cloud-application',
        name: 'Office 365',
        reason: 'appId 11161 is a Defender for Cloud Apps app id, not an Entra appId; not resolved',
      },
      { path: 'Entities[4]', kind: 'ip', name: '203.0.113.7', reason: 'entity kind ip identifies no Entra identity' },
    ]);
  });
});

describe('parseAlert: alert trigger details', () => {
  it('gives the same result for Entities as an array and as a JSON string', () => {
    const a = parseAlert(loadFixture('alert-trigger.entities-array.json'));
    const s = parseAlert(loadFixture('alert-trigger.entities-string.json'));
    expect(s).toEqual(a);
  });

  it('refuses Entities that is a string but not JSON, naming Entities', () => {
    const b = loadFixture('alert-trigger.entities-string.json');
    b.Entities = '[{"Type":"account",';
    const err = thrown(() => parseAlert(b));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).fields).toEqual([
      { field: 'Entities', message: expect.stringMatching(/^is a string but not a JSON array of entities: Invalid JSON at line 1, column 20/) as unknown },
    ]);
  });

  it('refuses Entities whose JSON text is not an array', () => {
    const b = loadFixture('alert-trigger.entities-string.json');
    b.Entities = '{"Type":"account"}';
    expect((thrown(() => parseAlert(b)) as ValidationError).fields.map((f) => f.field)).toEqual(['Entities']);
  });

  it('refuses an alert without SystemAlertId', () => {
    const b = loadFixture('alert-trigger.entities-array.json');
    delete b.SystemAlertId;
    expect((thrown(() => parseAlert(b)) as ValidationError).fields).toEqual([
      { field: 'SystemAlertId', message: 'is required (a string)' },
    ]);
  });

  it('reads camelCase alert fields too', () => {
    const alert = parseAlert({
      systemAlertId: SYSTEM_ALERT_ID.toUpperCase(),
      alertDisplayName: 'x',
      severity: 'HIGH',
      entities: [{ type: 'Account', aadUserId: SP_OBJECT_ID }],
    });
    expect(alert).toMatchObject({ dedupeKey: `alert:${SYSTEM_ALERT_ID}`, severity: 'High', title: 'x' });
    expect(alert.targets).toEqual([{ by: 'objectId', objectId: SP_OBJECT_ID }]);
  });

  it('records a $ref entity as a reference, not as an identity', () => {
    const alert = parseAlert({ SystemAlertId: SYSTEM_ALERT_ID, Entities: [{ $ref: '2' }] });
    expect(alert.rejected[0]?.reason).toMatch(/\$ref/);
  });
});

describe('parseAlert: hostile alert trigger bodies', () => {
  it('refuses an Entities string nested deeper than 64 levels, naming Entities', () => {
    const b = { SystemAlertId: SYSTEM_ALERT_ID, Entities: `${'['.repeat(100)}${']'.repeat(100)}` };
    const err = thrown(() => parseAlert(b)) as ValidationError;
    expect(err.fields).toEqual([{ field: 'Entities', message: expect.stringMatching(/nested deeper than 64/) as unknown }]);
  });

  it('refuses a SystemAlertId longer than 10,000 characters', () => {
    const err = thrown(() => parseAlert({ SystemAlertId: 'a'.repeat(10_001), Entities: [] })) as ValidationError;
    expect(err.fields.map((f) => f.field)).toEqual(['SystemAlertId']);
  });
});
