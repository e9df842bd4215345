import { describe, expect, it } from 'vitest';
import { KnownRows } from '../../../shared/store/known-rows';

describe('KnownRows', () => {
  it('forgets the key seen least recently once it holds more than its limit', () => {
    const rows = new KnownRows(3);
    ['a', 'b', 'c'].forEach((k) => rows.add(k));
    rows.add('a'); // seen again: now the most recent
    rows.add('d');
    expect(['a', 'b', 'c', 'd'].filter((k) => rows.has(k))).toEqual(['a', 'c', 'd']);
  });

  it('forgets a key deleted behind it', () => {
    const rows = new KnownRows(3);
    rows.add('a');
    rows.delete('a');
    expect(rows.has('a')).toBe(false);
  });
});
