import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyLabel } from '../../../shared/tickets/jira-tickets';
import { noteMarker, queryableKey } from '../../../shared/tickets/note-marker';

/** Any UTF-16 code unit: control characters, quotes, lone surrogates included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

describe('keys placed in ticket-system queries', () => {
  it('keeps a plain ticket key readable in correlation_id', () => {
    expect(queryableKey('agent-responders:8f1c2d3e-0000-4000-8000-000000000001')).toBe('agent-responders:8f1c2d3e-0000-4000-8000-000000000001');
  });

  it('hashes a key that could end or extend a ServiceNow encoded query, or outgrow correlation_id', () => {
    for (const key of ['x^ORcorrelation_id=other', 'x^NQactive=true', 'a b', 'x\ny', 'k'.repeat(101), '']) {
      const safe = queryableKey(key);
      expect(safe, key).toMatch(/^agent-responders:sha256:[0-9a-f]{64}$/);
      expect(safe.length).toBeLessThanOrEqual(100);
    }
    expect(queryableKey('x^OR1')).not.toBe(queryableKey('x^OR2'));
  });

  it('never lets any key produce a query character: ^ = quotes, backslash or whitespace', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: anyCodeUnit, maxLength: 300 }), fc.string({ unit: 'grapheme-ascii', maxLength: 120 })), (key) => {
        expect(queryableKey(key)).toMatch(/^[A-Za-z0-9:._|@-]{1,100}$/);
        expect(noteMarker(key)).toMatch(/^ar-note-[0-9a-f]{32}$/);
        expect(keyLabel(key)).toMatch(/^[A-Za-z0-9_.:-]*$/);
      }),
    );
  });

  it('gives each note key its own marker, and the same marker on every retry', () => {
    expect(noteMarker('agent-responders:case-1:released')).toBe(noteMarker('agent-responders:case-1:released'));
    expect(noteMarker('agent-responders:case-1:released')).not.toBe(noteMarker('agent-responders:case-1:drift'));
  });
});
