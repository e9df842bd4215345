import { describe, expect, it } from 'vitest';
import { PostedBody } from '../../../shared/alerts/posted-body';
import { EntityList, MAX_ENTITIES, SentinelEntity, assertEntityBudget } from '../../../shared/alerts/sentinel-entity';
import { ValidationError } from '../../../shared/errors';
import { thrown } from './load-fixture';

const GUID = 'a9e00000-0000-4000-8000-000000000001';
const messages = (value: unknown): string[] => EntityList.safeParse(value).error?.issues.map((i) => `${i.path.join('.') || '$'}: ${i.message}`) ?? [];

describe('EntityList: what a list of entities may be', () => {
  it('reads an array, and the JSON text of one (as the alert trigger sends Entities)', () => {
    const list = [{ kind: 'Account', properties: { aadUserId: GUID } }];
    const read = [{ object: { kind: 'Account', properties: { object: { aadUserId: GUID } } }, posted: list[0] }];
    expect(EntityList.parse(list)).toMatchObject(read);
    expect(EntityList.parse(JSON.stringify(list))).toMatchObject(read);
  });

  it('refuses anything else, saying what it got', () => {
    expect(messages(42)).toEqual(['$: must be an array of entities, got a number']);
    expect(messages({ kind: 'Account' })).toEqual(['$: must be an array of entities, got an object']);
    expect(messages('{"kind":"Account"}')).toEqual(['$: must be an array of entities, got an object']);
    expect(messages('[{"kind":')).toEqual([expect.stringMatching(/^\$: is a string but not a JSON array of entities: Invalid JSON/) as string]);
  });

  it(`reads ${MAX_ENTITIES} entities and refuses one more, before reading any`, () => {
    expect(EntityList.safeParse(Array.from({ length: MAX_ENTITIES }, () => ({ kind: 'Ip' }))).success).toBe(true);
    expect(messages(Array.from({ length: MAX_ENTITIES + 1 }, () => 'not even an entity'))).toEqual([`$: has too many entities: at most ${MAX_ENTITIES} are read from one body`]);
  });
});

describe('SentinelEntity: one entity, whatever it is', () => {
  it('keeps a value that is not an object as a verdict on the entity, not on the body', () => {
    expect(SentinelEntity.parse('Account')).toEqual({ notAnObject: 'a string', posted: 'Account' });
    expect(SentinelEntity.parse(null)).toEqual({ notAnObject: 'null', posted: null });
    expect(SentinelEntity.parse(undefined)).toBeUndefined();
    expect(SentinelEntity.parse({ kind: 'Account', properties: 7 })).toMatchObject({ object: { kind: 'Account', properties: { notAnObject: 'a number', posted: 7 } } });
  });

  it('reads the identity fields in any letter case, inline or under properties', () => {
    const flat = SentinelEntity.parse({ Type: 'account', AadUserId: GUID, Name: 'agent-7', UPNSuffix: 'contoso.com', AppId: 'x', friendlyName: 'Agent' });
    expect(flat).toMatchObject({ object: { type: 'account', aadUserId: GUID, name: 'agent-7', upnSuffix: 'contoso.com', appId: 'x', friendlyName: 'Agent' } });
    const arm = SentinelEntity.parse({ kind: 'Account', properties: { AccountName: 'agent-7', upnsuffix: 'contoso.com' } });
    expect(arm).toMatchObject({ object: { kind: 'Account', properties: { object: { accountName: 'agent-7', upnSuffix: 'contoso.com' } } } });
  });

  it('makes the body invalid for an over-long identifier, naming it where it was posted', () => {
    const issues = SentinelEntity.safeParse({ kind: 'Account', properties: { aadUserId: 'x'.repeat(10_001) } }).error?.issues ?? [];
    expect(issues.map((i) => ({ path: i.path, message: i.message }))).toEqual([{ path: ['properties', 'aadUserId'], message: 'is longer than 10000 characters' }]);
  });
});

describe('assertEntityBudget: the entities of one body together', () => {
  const entities = (n: number) => Array.from({ length: n }, () => SentinelEntity.parse({ kind: 'Ip' }));

  it(`accepts ${MAX_ENTITIES} entities across the lists, and names the list that goes past it`, () => {
    const body = { object: { properties: { Entities: [], relatedEntities: [] } } };
    const lists = (a: number, b: number) => [
      { path: ['object', 'properties', 'Entities'], list: entities(a) },
      { path: ['object', 'properties', 'relatedEntities'], list: entities(b) },
    ];
    expect(() => assertEntityBudget(lists(MAX_ENTITIES - 1, 1), new PostedBody(body), 'The body is invalid.')).not.toThrow();
    const error = thrown(() => assertEntityBudget(lists(MAX_ENTITIES - 1, 2), new PostedBody(body), 'The body is invalid.'));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      message: 'The body is invalid.',
      fields: [{ field: 'object.properties.relatedEntities', message: `has too many entities: at most ${MAX_ENTITIES} are read from one body` }],
    });
  });
});

// Mutants `npm run test:mutation` leaves alive in sentinel-entity.ts:
// - `code: 'custom'` as '' in the three ctx.addIssue calls: equivalent. zod keeps the message and path, and nothing
//   reads the code of a custom issue (issuesToFields only looks for 'unrecognized_keys').
// - lenientObject's body emptied: not a real survivor. The function then returns undefined, so this module throws
//   on import and every test file that reads an entity fails to load; the vitest runner counts a file that fails to
//   load as no test run, hence "survived" with 0 tests completed (stryker-js#6150).
