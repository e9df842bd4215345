import { describe, expect, it } from 'vitest';
import { IsolatedSweep } from '../../../shared/async/isolated-sweep';

describe('IsolatedSweep', () => {
  it('handles every record after one that throws, names the failed ones in the log, and fails the run at the end', async () => {
    const warnings: string[] = [];
    const sweep = new IsolatedSweep('case', { warn: (m) => warnings.push(m) });
    const handled: string[] = [];
    await sweep.each(['a', 'b', 'c'], (id) => id, async (id) => {
      if (id === 'a' || id === 'c') {
        throw new Error(`storage refused ${id}`);
      }
      handled.push(id);
      await Promise.resolve();
    });
    await sweep.each(['d'], (id) => id, async (id) => {
      handled.push(id);
      await Promise.resolve();
    });
    expect(handled).toEqual(['b', 'd']);
    expect(warnings).toEqual([
      'case a: not handled in this run, tried again on the next: storage refused a',
      'case c: not handled in this run, tried again on the next: storage refused c',
    ]);
    const thrown = (() => {
      try {
        sweep.finish();
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).toBeInstanceOf(AggregateError);
    expect((thrown as AggregateError).message).toBe('2 cases not handled in this run, tried again on the next: storage refused a');
    expect((thrown as AggregateError).errors.map((e: Error) => e.message)).toEqual(['storage refused a', 'storage refused c']);
  });

  it('finishes quietly when every record was handled, and says "1 approval" for one', async () => {
    const clean = new IsolatedSweep('approval');
    await clean.each([1, 2], String, () => Promise.resolve());
    expect(() => clean.finish()).not.toThrow();

    const one = new IsolatedSweep('approval');
    await one.each([1], String, () => Promise.reject(new Error('gone')));
    expect(() => one.finish()).toThrow(/^1 approval not handled in this run, tried again on the next: gone$/);
  });

  it('keeps a read that failed like a failed record, skips that pass only, and the next pass still runs', async () => {
    const warnings: string[] = [];
    const sweep = new IsolatedSweep('case', { warn: (m) => warnings.push(m) });
    const handled: string[] = [];
    await sweep.each(Promise.reject(new Error('table throttled')), String, () => Promise.resolve());
    await sweep.each(Promise.resolve(['w']), String, async (id) => {
      handled.push(id);
      await Promise.resolve();
    });
    expect(handled).toEqual(['w']);
    expect(warnings).toEqual(['cases: not read in this run, read again on the next: table throttled']);
    expect(() => sweep.finish()).toThrow(/^1 case not handled in this run, tried again on the next: table throttled$/);
  });
});
