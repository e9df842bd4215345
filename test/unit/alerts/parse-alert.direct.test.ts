import { describe, expect, it } from 'vitest';
import { parseAlert } from '../../../shared/alerts/parse-alert';
import { ValidationError } from '../../../shared/errors';
import { AGENT_APP_ID, INCIDENT_ARM_ID, loadFixture, SP_OBJECT_ID, thrown } from './load-fixture';

const fieldsOf = (body: unknown): string[] => {
  const err = thrown(() => parseAlert(body));
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).fields.map((f) => f.field);
};

describe('parseAlert: direct request', () => {
  it('reads targets by id, appId and upn', () => {
    const alert = parseAlert(loadFixture('direct-request.json'));
    expect(alert).toEqual({
      source: 'direct',
      dedupeKey: expect.stringMatching(/^direct:[0-9a-f]{16}$/) as unknown,
      incidentArmId: INCIDENT_ARM_ID,
      workspace: { subscriptionId: '11111111-2222-3333-4444-555555555555', resourceGroup: 'soc-rg', workspaceName: 'soc-ws' },
      title: 'Agent exfiltrating invoices to an external endpoint (SOC ticket 7731)',
      severity: 'High',
      targets: [
        { by: 'objectId', objectId: SP_OBJECT_ID },
        { by: 'appId', appId: AGENT_APP_ID },
        { by: 'upn', upn: 'agent-user-01@contoso.onmicrosoft.com' },
      ],
      rejected: [],
    });
  });

  it('gives the same dedupe key across target order, duplicates, key order and case', () => {
    const a = parseAlert(loadFixture('direct-request.json')).dedupeKey;
    const b = parseAlert({
      severity: 'HIGH',
      incidentArmId: INCIDENT_ARM_ID,
      reason: 'Agent exfiltrating invoices to an external endpoint (SOC ticket 7731)',
      targets: [
        { upn: 'Agent-User-01@Contoso.onmicrosoft.com' },
        { appId: AGENT_APP_ID.toUpperCase() },
        { id: SP_OBJECT_ID },
        { id: SP_OBJECT_ID.toUpperCase() },
      ],
    }).dedupeKey;
    expect(b).toBe(a);
    const c = parseAlert({ ...loadFixture('direct-request.json'), reason: 'another reason' }).dedupeKey;
    expect(c).not.toBe(a);
  });

  it('collapses duplicate targets', () => {
    const alert = parseAlert({ targets: [{ id: SP_OBJECT_ID }, { id: SP_OBJECT_ID.toUpperCase() }], reason: 'r' });
    expect(alert.targets).toEqual([{ by: 'objectId', objectId: SP_OBJECT_ID }]);
    expect(alert.severity).toBe('Medium');
  });

  it('names each bad target field by path', () => {
    expect(
      fieldsOf({
        targets: [{ id: SP_OBJECT_ID }, { id: 'not-a-guid' }, { appId: '11161' }, { upn: 'agent@' }, {}, { id: SP_OBJECT_ID, upn: 'a@b.c' }],
        reason: 'r',
      }),
    ).toEqual(['targets[1].id', 'targets[2].appId', 'targets[3].upn', 'targets[4]', 'targets[5]']);
  });

  it('refuses unknown keys by name, __proto__ and constructor included', () => {
    const body = JSON.parse(
      `{"targets":[{"objectId":"${SP_OBJECT_ID}","__proto__":{"polluted":true}}],"reason":"r","constructor":{"prototype":{"polluted":true}}}`,
    ) as unknown;
    expect(fieldsOf(body)).toEqual(['targets[0].objectId', 'targets[0].__proto__', 'targets[0]', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('requires a reason of 1 to 1000 characters', () => {
    expect(fieldsOf({ targets: [{ id: SP_OBJECT_ID }] })).toEqual(['reason']);
    expect(fieldsOf({ targets: [{ id: SP_OBJECT_ID }], reason: '   ' })).toEqual(['reason']);
    expect(fieldsOf({ targets: [{ id: SP_OBJECT_ID }], reason: 'x'.repeat(1001) })).toEqual(['reason']);
    expect(parseAlert({ targets: [{ id: SP_OBJECT_ID }], reason: 'x'.repeat(1000) }).title).toHaveLength(1000);
  });

  it('refuses empty targets, an unknown severity and a malformed incidentArmId', () => {
    expect(fieldsOf({ targets: [], reason: 'r', severity: 'Critical', incidentArmId: '/subscriptions/x' })).toEqual([
      'targets',
      'severity',
      'incidentArmId',
    ]);
  });

  it('refuses more than 500 targets', () => {
    const targets = Array.from({ length: 501 }, () => ({ id: SP_OBJECT_ID }));
    expect(fieldsOf({ targets, reason: 'r' })).toEqual(['targets']);
  });
});

describe('parseAlert: unknown shapes', () => {
  it.each([null, 42, 'text', [], [{ targets: [] }]])('refuses %j naming the body', (body) => {
    expect(fieldsOf(body)).toEqual(['$']);
  });

  it('says what was expected for an object of no known shape', () => {
    const err = thrown(() => parseAlert({ hello: 'world' })) as ValidationError;
    expect(err.status).toBe(400);
    expect(err.fields[0]?.message).toMatch(/incident trigger.*alert trigger.*entity trigger.*direct request/);
  });
});
