import { describe, expect, it } from 'vitest';
import { readEndOfLife } from '../../shared/lifecycle/end-of-life';
import { lifecyclePhase } from '../../shared/lifecycle/lifecycle-phase';

const sources = { attribute: 'AgentLifecycle.ExpiresOn', tagPrefix: 'agent-expires:' };
const attribute = (value: unknown) => ({ AgentLifecycle: { '@odata.type': '#Microsoft.DirectoryServices.CustomSecurityAttributeValue', ExpiresOn: value } });

describe('end of lifecycle', () => {
  it('prefers the custom security attribute over the tag', () => {
    expect(readEndOfLife({ tags: ['agent-expires:2026-03-01'], customSecurityAttributes: attribute('2026-02-01') }, sources)).toEqual({ date: '2026-02-01', from: 'attribute' });
  });

  it('falls back to the tag when the attribute is absent or not a date', () => {
    expect(readEndOfLife({ tags: ['other', 'Agent-Expires:2026-03-01'], customSecurityAttributes: attribute('soon') }, sources)).toEqual({ date: '2026-03-01', from: 'tag' });
  });

  it('reads the date of an ISO date-time attribute', () => {
    expect(readEndOfLife({ customSecurityAttributes: attribute('2026-02-01T17:00:00Z') }, sources)?.date).toBe('2026-02-01');
  });

  it('ignores dates that do not exist and sources that are not configured', () => {
    expect(readEndOfLife({ tags: ['agent-expires:2026-02-30'] }, sources)).toBeUndefined();
    expect(readEndOfLife({ customSecurityAttributes: attribute('2026-02-01') }, { tagPrefix: 'agent-expires:' })).toBeUndefined();
    expect(readEndOfLife({ tags: ['agent-expires:2026-02-01'] }, { attribute: undefined, tagPrefix: '' })).toBeUndefined();
  });
});

describe('lifecycle phase', () => {
  const rules = { warnDays: 14, graceDays: 30 };
  const at = (iso: string) => Date.parse(iso);

  it('is expired from the first moment of the end date (UTC)', () => {
    expect(lifecyclePhase('2026-01-31', at('2026-01-30T23:59:59Z'), rules)).toBe('expiring');
    expect(lifecyclePhase('2026-01-31', at('2026-01-31T00:00:00Z'), rules)).toBe('expired');
  });

  it('warns within the window and not before', () => {
    expect(lifecyclePhase('2026-01-31', at('2026-01-17T12:00:00Z'), rules)).toBe('expiring');
    expect(lifecyclePhase('2026-01-31', at('2026-01-16T12:00:00Z'), rules)).toBe('active');
  });

  it('is past the grace period once that many days went by', () => {
    expect(lifecyclePhase('2026-01-31', at('2026-03-01T12:00:00Z'), rules)).toBe('expired');
    expect(lifecyclePhase('2026-01-31', at('2026-03-02T00:00:00Z'), rules)).toBe('past-grace');
  });
});
