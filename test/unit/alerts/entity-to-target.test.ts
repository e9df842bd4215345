import { describe, expect, it } from 'vitest';
import { entityToTarget, type EntityOutcome } from '../../../shared/alerts/entity-to-target';
import { ValidationError } from '../../../shared/errors';
import { AGENT_APP_ID, SP_OBJECT_ID, thrown } from './load-fixture';

const outcome = (entity: unknown): EntityOutcome => entityToTarget(entity, 'e[0]');
const account = (properties: Record<string, unknown>): EntityOutcome => outcome({ kind: 'Account', properties });
const reasonOf = (o: EntityOutcome): string => ('rejected' in o ? o.rejected.reason : `target ${JSON.stringify(o.target)}`);

describe('entityToTarget: Account', () => {
  it('takes a GUID aadUserId as an object id, lower-cased, even without upnSuffix', () => {
    expect(account({ aadUserId: SP_OBJECT_ID.toUpperCase(), accountName: 'invoice-agent' })).toEqual({
      target: { by: 'objectId', objectId: SP_OBJECT_ID, name: 'invoice-agent' },
    });
  });

  it('keeps name@upnSuffix, lower-cased, next to the object id for display', () => {
    expect(account({ AadUserId: SP_OBJECT_ID, Name: 'Agent-7', UPNSuffix: 'Contoso.com' })).toEqual({
      target: { by: 'objectId', objectId: SP_OBJECT_ID, upn: 'agent-7@contoso.com', name: 'Agent-7' },
    });
  });

  it('takes Name@UPNSuffix as a UPN when there is no aadUserId', () => {
    expect(account({ Name: 'agent-7', UPNSuffix: 'contoso.com' })).toEqual({
      target: { by: 'upn', upn: 'agent-7@contoso.com', name: 'agent-7' },
    });
  });

  it('rejects Name@ with an empty suffix', () => {
    expect(reasonOf(account({ Name: 'agent-7', UPNSuffix: '' }))).toBe(
      'Account has no aadUserId and an empty UPNSuffix: "name@" is not a UPN',
    );
  });

  it('rejects a bare account name without suffix or aadUserId', () => {
    expect(reasonOf(account({ accountName: 'administrator', ntDomain: 'domain' }))).toMatch(/no UPN suffix/);
  });

  it('rejects an array-wrapped UPN, as an array or as JSON text', () => {
    expect(reasonOf(account({ Name: ['agent-7'], UPNSuffix: 'contoso.com' }))).toBe(
      'Name is array-wrapped (an array, not a string); not resolved',
    );
    expect(reasonOf(account({ Name: '["agent-7@contoso.com"]', UPNSuffix: 'contoso.com' }))).toBe(
      'Name is array-wrapped (the text of a JSON array); not resolved',
    );
    expect(reasonOf(account({ aadUserId: [SP_OBJECT_ID] }))).toMatch(/aadUserId is array-wrapped/);
  });

  it('keeps an object id whose display name is array-wrapped, dropping only the display UPN', () => {
    expect(account({ aadUserId: SP_OBJECT_ID, Name: 'agent-7', UPNSuffix: ['contoso.com'] })).toEqual({
      target: { by: 'objectId', objectId: SP_OBJECT_ID, name: 'agent-7' },
    });
  });

  it('clips an over-long display name instead of refusing the body', () => {
    const o = outcome({ kind: 'Url', properties: { url: 'https://x.test/?q=' + 'a'.repeat(20_000), friendlyName: 'b'.repeat(20_000) } });
    expect('rejected' in o && o.rejected.name).toBe(`${'b'.repeat(256)}…`);
  });

  it('rejects a non-GUID aadUserId rather than falling back to the UPN', () => {
    expect(reasonOf(account({ aadUserId: 'S-1-5-18', Name: 'a', UPNSuffix: 'contoso.com' }))).toBe(
      'aadUserId is not a GUID ("S-1-5-18"); the account is not resolved',
    );
    expect(reasonOf(account({ aadUserId: 12 }))).toMatch(/not a GUID \(a number\)/);
  });

  it('rejects a name and suffix that do not form a UPN', () => {
    expect(reasonOf(account({ Name: 'a b', UPNSuffix: 'contoso.com' }))).toMatch(/valid UPN/);
    expect(reasonOf(account({ Name: 'a@b', UPNSuffix: 'contoso.com' }))).toMatch(/valid UPN/);
  });
});

describe('entityToTarget: CloudApplication', () => {
  it('takes a GUID appId as an Entra appId', () => {
    expect(outcome({ kind: 'CloudApplication', properties: { appId: AGENT_APP_ID.toUpperCase(), appName: 'X' } })).toEqual({
      target: { by: 'appId', appId: AGENT_APP_ID, name: 'X' },
    });
  });

  it('rejects an int or numeric-string appId as a Defender for Cloud Apps id', () => {
    for (const appId of [11161, '11161']) {
      expect(reasonOf(outcome({ kind: 'CloudApplication', properties: { appId } }))).toBe(
        'appId 11161 is a Defender for Cloud Apps app id, not an Entra appId; not resolved',
      );
    }
  });

  it('rejects a missing or odd appId and never resolves by name', () => {
    expect(reasonOf(outcome({ kind: 'CloudApplication', properties: { appName: 'Procurement Agent' } }))).toBe(
      'CloudApplication has no appId',
    );
    expect(reasonOf(outcome({ kind: 'CloudApplication', properties: { appId: 'procurement' } }))).toMatch(/neither/);
  });
});

describe('entityToTarget: other entities', () => {
  it.each(['Ip', 'Host', 'File', 'Url', 'Mailbox', 'MailMessage'])('rejects kind %s', (kind) => {
    expect(outcome({ kind, properties: { friendlyName: 'x' } })).toEqual({
      rejected: { path: 'e[0]', kind, name: 'x', reason: `entity kind ${kind} identifies no Entra identity` },
    });
  });

  it('rejects a non-object entity and one without any kind', () => {
    expect(reasonOf(outcome(null))).toBe('entity is null, not an object');
    expect(reasonOf(outcome({ properties: { address: '10.0.0.1' } }))).toMatch(/no kind/);
    expect(reasonOf(outcome({ kind: 'Account', properties: 'x' }))).toMatch(/not an object/);
  });

  it('ignores an ARM resource type as a kind', () => {
    expect(reasonOf(outcome({ type: 'Microsoft.SecurityInsights/entities', properties: { hostName: 'vm' } }))).toMatch(/no kind/);
  });
});

describe('entityToTarget: nothing resolves to an identity the entity does not name', () => {
  it('never makes a UPN out of a missing or blank account name ("undefined@contoso.com")', () => {
    for (const properties of [{ UPNSuffix: 'contoso.com' }, { Name: '   ', UPNSuffix: 'contoso.com' }, { accountName: '', upnSuffix: 'contoso.com' }]) {
      expect(account(properties), JSON.stringify(properties)).toStrictEqual({
        rejected: { path: 'e[0]', kind: 'Account', reason: 'Account has no aadUserId and no account name' },
      });
    }
  });

  it('never makes a UPN out of a suffix that is not text ("agent-7@undefined")', () => {
    for (const UPNSuffix of [42, true, { domain: 'contoso.com' }]) {
      expect(reasonOf(account({ Name: 'agent-7', UPNSuffix })), JSON.stringify(UPNSuffix)).toMatch(/^UPNSuffix is an? \w+, not a string$/);
    }
  });

  it('trims spaces around the account name and the suffix, as Sentinel sometimes pads them', () => {
    expect(account({ accountName: ' agent-7 ', upnSuffix: ' contoso.com ' })).toEqual({ target: { by: 'upn', upn: 'agent-7@contoso.com', name: 'agent-7' } });
    expect(account({ aadUserId: SP_OBJECT_ID, accountName: 'agent-7 ', upnSuffix: '\tcontoso.com' })).toEqual({
      target: { by: 'objectId', objectId: SP_OBJECT_ID, upn: 'agent-7@contoso.com', name: 'agent-7' },
    });
  });

  it('records no empty name or UPN beside a target or a rejection', () => {
    expect(account({ aadUserId: SP_OBJECT_ID })).toStrictEqual({ target: { by: 'objectId', objectId: SP_OBJECT_ID } });
    expect(outcome({ kind: 'CloudApplication', properties: { appId: AGENT_APP_ID } })).toStrictEqual({ target: { by: 'appId', appId: AGENT_APP_ID } });
    expect(outcome({ kind: 'CloudApplication', properties: { appId: ['x'] } })).toStrictEqual({
      rejected: { path: 'e[0]', kind: 'CloudApplication', reason: 'appId is array-wrapped (an array, not a string); not resolved' },
    });
    expect(outcome({ kind: 'Ip', properties: { address: '' } })).toStrictEqual({ rejected: { path: 'e[0]', kind: 'Ip', reason: 'entity kind Ip identifies no Entra identity' } });
  });

  it('shows an entity by its first non-blank display field', () => {
    expect(account({ Name: 'agent-7', UPNSuffix: 'contoso.com', friendlyName: '  ', displayName: 'Agent Seven' })).toEqual({
      target: { by: 'upn', upn: 'agent-7@contoso.com', name: 'Agent Seven' },
    });
  });

  it('refuses an appId wrapped in an array, even around a GUID', () => {
    for (const appId of [[AGENT_APP_ID], `["${AGENT_APP_ID}"]`, ` [${AGENT_APP_ID}] `]) {
      expect(reasonOf(outcome({ kind: 'CloudApplication', properties: { appId } })), JSON.stringify(appId)).toMatch(/^appId is array-wrapped/);
    }
  });

  it('calls only whole integers Defender for Cloud Apps ids, padded or not', () => {
    expect(reasonOf(outcome({ kind: 'CloudApplication', properties: { appId: ' 11161 ' } }))).toMatch(/^appId 11161 is a Defender for Cloud Apps app id/);
    for (const appId of [1.5, '123abc', 'abc123', '12 34']) {
      expect(reasonOf(outcome({ kind: 'CloudApplication', properties: { appId } })), String(appId)).toMatch(/^appId is neither an Entra appId/);
    }
  });

  it('tells an array-wrapped name from a name that merely contains brackets', () => {
    expect(account({ Name: '[admin]svc', UPNSuffix: 'contoso.com' })).toEqual({ target: { by: 'upn', upn: '[admin]svc@contoso.com', name: '[admin]svc' } });
    // Brackets that end the name without opening it: not a wrapped array, so still the UPN it spells.
    expect(account({ Name: 'svc[admin]', UPNSuffix: 'contoso.com' })).toEqual({ target: { by: 'upn', upn: 'svc[admin]@contoso.com', name: 'svc[admin]' } });
    expect(reasonOf(account({ Name: '["agent-7"] ', UPNSuffix: 'contoso.com' }))).toBe('Name is array-wrapped (the text of a JSON array); not resolved');
    expect(reasonOf(account({ Name: 'agent-7', UPNSuffix: '[\n"contoso.com"\n]' }))).toBe('UPNSuffix is array-wrapped (the text of a JSON array); not resolved');
  });
});

describe('entityToTarget: entities without a kind (the entity trigger)', () => {
  it('takes fields only an Account has as an Account', () => {
    expect(outcome({ aadUserId: SP_OBJECT_ID })).toEqual({ target: { by: 'objectId', objectId: SP_OBJECT_ID } });
    expect(outcome({ Name: 'agent-7', UPNSuffix: 'contoso.com' })).toEqual({ target: { by: 'upn', upn: 'agent-7@contoso.com', name: 'agent-7' } });
    expect(outcome({ properties: { accountName: 'agent-7' } })).toEqual({
      rejected: { path: 'e[0]', kind: 'Account', name: 'agent-7', reason: 'Account has no aadUserId and no UPN suffix; a bare account name identifies no one' },
    });
  });

  it('takes an appId as a CloudApplication', () => {
    expect(outcome({ appId: AGENT_APP_ID })).toEqual({ target: { by: 'appId', appId: AGENT_APP_ID } });
    expect(outcome({ appId: 11161 })).toEqual({ rejected: { path: 'e[0]', kind: 'CloudApplication', reason: 'appId 11161 is a Defender for Cloud Apps app id, not an Entra appId; not resolved' } });
  });

  it('looks past a blank kind to the fields', () => {
    expect(outcome({ kind: '   ', properties: { aadUserId: SP_OBJECT_ID } })).toEqual({ target: { by: 'objectId', objectId: SP_OBJECT_ID } });
  });

  it('names nobody for an entity with neither a kind nor identity fields, or that is not an object', () => {
    expect(outcome({ properties: { hostName: 'vm-1' } })).toStrictEqual({
      rejected: { path: 'e[0]', kind: 'unknown', name: 'vm-1', reason: 'entity has no kind (kind/Type) and no Account or CloudApplication fields' },
    });
    expect(outcome({ $ref: '3' })).toStrictEqual({ rejected: { path: 'e[0]', kind: 'unknown', reason: 'entity is a $ref to another entity of the alert, which is read where it is defined' } });
    expect(outcome(undefined)).toStrictEqual({ rejected: { path: 'e[0]', kind: 'unknown', reason: 'entity is an undefined, not an object' } });
    expect(outcome('Account')).toStrictEqual({ rejected: { path: 'e[0]', kind: 'unknown', reason: 'entity is a string, not an object' } });
    expect(outcome({ kind: 'Account', properties: [] })).toStrictEqual({ rejected: { path: 'e[0]', kind: 'unknown', reason: 'entity properties is an array, not an object' } });
  });
});

describe('entityToTarget: a body it cannot use', () => {
  it('refuses an over-long identifier or a field given twice, naming the field under the entity path', () => {
    const invalid = (entity: unknown) => thrown(() => entityToTarget(entity, 'Entities[3]'));
    const long = invalid({ kind: 'Account', properties: { aadUserId: 'x'.repeat(10_001) } });
    expect(long).toBeInstanceOf(ValidationError);
    expect(long).toMatchObject({ message: 'The entity is invalid.', fields: [{ field: 'Entities[3].properties.aadUserId', message: 'is longer than 10000 characters' }] });
    expect(invalid({ kind: 'Account', aadUserId: SP_OBJECT_ID, AadUserId: AGENT_APP_ID })).toMatchObject({
      fields: [{ field: 'Entities[3].aadUserId', message: 'appears more than once with different letter case (aadUserId, AadUserId)' }],
    });
  });
});

// Mutants `npm run test:mutation` leaves alive in entity-to-target.ts, each equivalent (no input tells it apart):
// - the `'$'` test when an invalid entity's problems are named: an entity's problems always sit on a field (a
//   bounded identifier, a key given twice), never on the entity itself, and an entity has too few fields to pass
//   MAX_PROBLEMS, so the root path '$' never occurs.
// - `name === undefined ? {} : { name }` made `false` for a UPN target: a UPN is only built from a non-blank account
//   name, which displayName then returns, so the name is always there.
// - the type checks in the Defender id test made `true`: Number.isInteger refuses any non-number, and the digit
//   pattern refuses every non-string a JSON body can hold (arrays are refused earlier as array-wrapped).
