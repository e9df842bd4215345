import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonText } from '../../../shared/http/parse-json-text';

describe('parseJsonText', () => {
  it('agrees with JSON.parse on valid JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(0, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(parseJsonText(text)).toEqual({ ok: true, value: JSON.parse(text) as unknown });
      }),
      { numRuns: 200 },
    );
  });

  it('refuses whatever JSON.parse refuses', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'{}[]":,0123456789-+.eEtrufalsn \\u/\n'.split('')), maxLength: 20 }), (text) => {
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        expect(parseJsonText(text).ok).toBe(parses);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['{"a":}', 5],
    ['[1,]', 3],
    ['{"a":1,}', 7],
    ['01', 1],
    ['"abc', 0],
    ['{"a" 1}', 5],
    ['[1] x', 4],
    ['"\\x"', 1],
  ])('reports the position of the error in %j', (text, position) => {
    const result = parseJsonText(text);
    expect(result.ok).toBe(false);
    expect(result.ok ? undefined : result.problem.position).toBe(position);
  });

  it('refuses nesting beyond the limit without recursion', () => {
    const result = parseJsonText('['.repeat(1_000_000), 64);
    expect(result.ok ? undefined : result.problem.kind).toBe('depth');
  });
});
