import { afterAll, beforeAll } from 'vitest';
import { startStack, type Stack } from './start-stack';

/**
 * The whole app for the tests of one `describe`: started before them (simulator, local host, a storage account of
 * the shared Azurite), stopped after. Returns the stack itself, usable in the tests once started.
 *
 * @example
 * describe('containment', () => {
 *   const stack = useStack({ env: { BLAST_RADIUS_PER_HOUR: '1000' } });
 *   it('contains', async () => { await stack.post('/api/alerts', body); });
 * });
 */
export function useStack(opts: Parameters<typeof startStack>[0] = {}): Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(opts);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  return new Proxy({} as Stack, {
    get(_target, prop) {
      if (!stack) {
        throw new Error('the stack is used before it started (use it inside a test or hook)');
      }
      const value: unknown = Reflect.get(stack, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(stack) : value;
    },
  });
}
