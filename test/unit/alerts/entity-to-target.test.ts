import { describe, expect, it } from 'vitest';
import { entityToTarget, type EntityOutcome } from '../../../shared/alerts/entity-to-target';
import { AGENT_APP_ID, SP_OBJECT_ID } from './load-fixture';

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
