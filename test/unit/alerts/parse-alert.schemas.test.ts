import { describe, expect, it } from 'vitest';
import { targetKey } from '../../../shared/alerts/alert-types';
import { MAX_REJECTED_LISTED } from '../../../shared/alerts/collect-targets';
import { entityToTarget } from '../../../shared/alerts/entity-to-target';
import { MAX_PROBLEMS } from '../../../shared/alerts/issues-to-fields';
import { parseAlert } from '../../../shared/alerts/parse-alert';
import { MAX_ENTITIES } from '../../../shared/alerts/sentinel-entity';
import { ValidationError } from '../../../shared/errors';
import { loadFixture, SP_OBJECT_ID, SYSTEM_ALERT_ID, thrown } from './load-fixture';

type Body = Record<string, unknown>;
const CUSTOMER_ID = '9d0f3b6a-0000-4000-8000-0000000000a1';

const fieldsOf = (body: unknown): string[] => {
  const err = thrown(() => parseAlert(body));
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).fields.map((f) => f.field);
};
const props = (b: Body): Body => (b.object as Body).properties as Body;
const ip = (i: number): Body => ({ kind: 'Ip', properties: { friendlyName: `#${i} 198.51.100.${i % 256}` } });
const sp = (i: number): Body => ({
  kind: 'Account',
  properties: { aadUserId: `aaaaaaaa-0000-4000-8000-${i.toString(16).padStart(12, '0')}`, accountName: `agent-${i}` },
});

describe('parseAlert: the workspace a body came from', () => {
  it('keeps the alert trigger WorkspaceId as the workspace customer id, lower-cased', () => {
    const b = loadFixture('alert-trigger.entities-array.json');
    b.WorkspaceId = CUSTOMER_ID.toUpperCase();
    expect(parseAlert(b).workspace).toEqual({
      subscriptionId: '11111111-2222-3333-4444-555555555555',
      resourceGroup: 'soc-rg',
      customerId: CUSTOMER_ID,
    });
  });

  it('keeps the incident trigger workspaceId, in either casing, beside the workspace of the incident id', () => {
    for (const casing of ['camel', 'pascal']) {
      expect(parseAlert(loadFixture(`incident-trigger.${casing}.json`)).workspace).toEqual({
        subscriptionId: '11111111-2222-3333-4444-555555555555',
        resourceGroup: 'soc-rg',
        workspaceName: 'soc-ws',
        customerId: CUSTOMER_ID,
      });
    }
  });

  it('refuses a WorkspaceId that is not a GUID, so nothing else is ever put in a query URL or KQL text', () => {
    const b = loadFixture('alert-trigger.entities-array.json');
    b.WorkspaceId = `${CUSTOMER_ID}" | union *`;
    const err = thrown(() => parseAlert(b)) as ValidationError;
    expect(err.fields).toEqual([{ field: 'WorkspaceId', message: 'must be a GUID (the Log Analytics workspace id)' }]);
  });

  it('refuses a resource group that no Azure resource group could be named', () => {
    const b = loadFixture('alert-trigger.entities-array.json');
    b.WorkspaceResourceGroup = 'soc-rg/../other';
    expect(fieldsOf(b)).toEqual(['WorkspaceResourceGroup']);
  });

  it('reads a blank resource group as not given', () => {
    const b = loadFixture('alert-trigger.entities-array.json');
    b.WorkspaceResourceGroup = ' ';
    expect(parseAlert(b).workspace).toBeUndefined();
  });

  it('names only the bad workspace name, not a mismatch computed from it', () => {
    const b = loadFixture('incident-trigger.camel.json');
    (b.workspaceInfo as Body).WorkspaceName = 'soc-ws?x=1';
    expect(fieldsOf(b)).toEqual(['workspaceInfo.WorkspaceName']);
  });
});

describe('parseAlert: severity', () => {
  it('says when the severity was only defaulted, so a severity gate can fail closed', () => {
    const b = loadFixture('incident-trigger.camel.json');
    expect(parseAlert(b).severityDefaulted).toBeUndefined();
    props(b).severity = 'Critical';
    expect(parseAlert(b)).toMatchObject({ severity: 'Medium', severityDefaulted: true });
    delete props(b).severity;
    expect(parseAlert(b)).toMatchObject({ severity: 'Medium', severityDefaulted: true });

    const alert = loadFixture('alert-trigger.entities-array.json');
    alert.Severity = 'hIgH';
    expect(parseAlert(alert)).toMatchObject({ severity: 'High' });
    expect(parseAlert(alert).severityDefaulted).toBeUndefined();
  });
});

describe('parseAlert: identifiers we key on', () => {
  it.each([
    ['a NUL', `${SYSTEM_ALERT_ID}\u0000`],
    ['a line break', `${SYSTEM_ALERT_ID}\n`],
    ['a lone surrogate', `${SYSTEM_ALERT_ID}\ud800`],
  ])('refuses a SystemAlertId with %s, naming it', (_, id) => {
    const b = loadFixture('alert-trigger.entities-array.json');
    b.SystemAlertId = id;
    expect(fieldsOf(b)).toEqual(['SystemAlertId']);
  });

  it('keeps a SystemAlertId with storage-key characters as posted (storage derives its keys)', () => {
    const b = loadFixture('alert-trigger.entities-array.json');
    b.SystemAlertId = 'A/B\\C#D?E%F';
    expect(parseAlert(b)).toMatchObject({ alertId: 'A/B\\C#D?E%F', dedupeKey: 'alert:a/b\\c#d?e%f' });
  });
});

describe('parseAlert: hostile text in entities', () => {
  it('rejects an account whose UPN would hold a lone surrogate, and keeps its object id without one', () => {
    const b = loadFixture('alert-trigger.entities-array.json');
    b.Entities = [
      { Type: 'account', Name: 'agent\ud800', UPNSuffix: 'contoso.com' },
      { Type: 'account', Name: 'agent\udc00', UPNSuffix: 'contoso.com', AadUserId: SP_OBJECT_ID },
    ];
    const alert = parseAlert(b);
    expect(alert.targets).toEqual([{ by: 'objectId', objectId: SP_OBJECT_ID, name: 'agent\ufffd' }]);
    expect(alert.rejected).toEqual([
      expect.objectContaining({ path: 'Entities[0]', name: 'agent\ufffd', reason: expect.stringMatching(/valid UPN/) as unknown }),
    ]);
  });

  it('clips an over-long kind where it is recorded', () => {
    const b = loadFixture('alert-trigger.entities-array.json');
    b.Entities = [{ Type: 'k'.repeat(5000) }];
    const [rejected] = parseAlert(b).rejected;
    expect(rejected?.kind).toBe(`${'k'.repeat(64)}…`);
    expect(rejected?.reason.length).toBeLessThan(150);
  });
});

describe('parseAlert: a thousand entities and more', () => {
  it('accepts an incident naming 1,500 agents among 3,000 entities, listing 100 rejected and counting the rest', () => {
    const b = loadFixture('incident-trigger.camel.json');
    props(b).relatedEntities = Array.from({ length: 3000 }, (_, i) => (i % 2 === 0 ? sp(i) : ip(i)));
    const alert = parseAlert(b);
    expect(alert.targets).toHaveLength(1500);
    expect(alert.rejected).toHaveLength(MAX_REJECTED_LISTED);
    expect(alert.rejected[0]).toEqual({
      path: 'object.properties.relatedEntities[1]',
      kind: 'Ip',
      name: '#1 198.51.100.1',
      reason: 'entity kind Ip identifies no Entra identity',
    });
    expect(alert.rejectedOmitted).toBe(1500 - MAX_REJECTED_LISTED);
  });

  it(`accepts ${MAX_ENTITIES} entities in an alert's Entities text, and refuses one more naming Entities`, () => {
    const b = loadFixture('alert-trigger.entities-array.json');
    const entities = Array.from({ length: MAX_ENTITIES }, (_, i) => ({ Type: 'ip', Address: `10.0.${i >> 8}.${i & 255}` }));
    b.Entities = JSON.stringify(entities);
    expect(parseAlert(b).rejected).toHaveLength(MAX_REJECTED_LISTED);
    b.Entities = JSON.stringify([...entities, { Type: 'ip' }]);
    const err = thrown(() => parseAlert(b)) as ValidationError;
    expect(err.fields).toEqual([{ field: 'Entities', message: `has too many entities: at most ${MAX_ENTITIES} are read from one body` }]);
  });

  it('names the first problems of a body full of them, and says how many more there are', () => {
    const b = loadFixture('incident-trigger.camel.json');
    props(b).relatedEntities = Array.from({ length: 1000 }, () => ({ kind: 'Account', properties: { aadUserId: 'x'.repeat(10_001) } }));
    const err = thrown(() => parseAlert(b)) as ValidationError;
    expect(err.fields).toHaveLength(MAX_PROBLEMS + 1);
    expect(err.fields[0]).toEqual({ field: 'object.properties.relatedEntities[0].properties.aadUserId', message: 'is longer than 10000 characters' });
    expect(err.fields[MAX_PROBLEMS]).toEqual({ field: '$', message: `and ${1000 - MAX_PROBLEMS} more field(s) with problems, not listed` });
  });
});

describe('parseAlert: field names as the sender spelled them', () => {
  it('names problems in a PascalCase body in PascalCase', () => {
    const b = loadFixture('incident-trigger.pascal.json');
    const p = (b.Object as Body).Properties as Body;
    p.IncidentNumber = 'four';
    p.IncidentUrl = 'javascript:alert(1)';
    ((p.RelatedEntities as Body[])[0]!.Properties as Body).AadUserId = 'x'.repeat(10_001);
    expect(fieldsOf(b).sort()).toEqual([
      'Object.Properties.IncidentNumber',
      'Object.Properties.IncidentUrl',
      'Object.Properties.RelatedEntities[0].Properties.AadUserId',
    ]);
  });

  it('refuses a top-level field given twice in different case with different values', () => {
    const b = loadFixture('incident-trigger.camel.json');
    b.Object = { id: 'other' };
    const err = thrown(() => parseAlert(b)) as ValidationError;
    expect(err.fields).toEqual([{ field: 'object', message: 'appears more than once with different letter case (object, Object)' }]);
  });

  it('names a few spellings of a field given in thousands of them', () => {
    const b = loadFixture('incident-trigger.camel.json');
    const spellings = Array.from({ length: 1 << 12 }, (_, n) => [...'relatedentit'].map((c, i) => ((n >> i) & 1 ? c.toUpperCase() : c)).join(''));
    spellings.forEach((key, i) => {
      props(b)[`${key}ies`] = [ip(i)];
    });
    const err = thrown(() => parseAlert(b)) as ValidationError;
    expect(err.fields).toEqual([
      {
        field: 'object.properties.relatedEntities',
        message: expect.stringMatching(/^appears more than once with different letter case \(relatedEntities, (\w+, ){4}…\)$/) as unknown,
      },
    ]);
  });

  it('reads a field given twice in different case with the same value', () => {
    const b = loadFixture('incident-trigger.camel.json');
    b.ObjectSchemaType = b.objectSchemaType;
    expect(parseAlert(b).source).toBe('incident');
  });
});

describe('parseAlert: what it never does', () => {
  it('never runs a getter: an accessor reads as absent', () => {
    const b = loadFixture('alert-trigger.entities-array.json');
    delete b.SystemAlertId;
    Object.defineProperty(b, 'SystemAlertId', {
      enumerable: true,
      get: () => {
        throw new Error('getter ran');
      },
    });
    expect(fieldsOf(b)).toEqual(['SystemAlertId']);
  });

  it('never reads an inherited field', () => {
    const b = Object.create(loadFixture('incident-trigger.camel.json')) as Body;
    expect(fieldsOf(b)).toEqual(['$']);
  });
});

describe('entityToTarget: one posted entity', () => {
  it('refuses an over-long identifier, naming it under the path given', () => {
    const err = thrown(() => entityToTarget({ kind: 'Account', properties: { AadUserId: 'x'.repeat(10_001) } }, 'Entity')) as ValidationError;
    expect(err.fields).toEqual([{ field: 'Entity.properties.AadUserId', message: 'is longer than 10000 characters' }]);
  });

  it('finds the same identity whatever the casing of its keys', () => {
    const keys = ['aadUserId', 'AadUserId', 'AADUSERID', 'aaduserid'];
    const found = keys.map((k) => entityToTarget({ Kind: 'account', Properties: { [k]: SP_OBJECT_ID } }, 'e'));
    expect(new Set(found.map((o) => ('target' in o ? targetKey(o.target) : 'rejected')))).toEqual(new Set([`oid:${SP_OBJECT_ID}`]));
  });
});
