import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../dev/simulator/start-simulator';

/**
 * One tenant simulator for the calling test file, reset before each test. With `identity`, the managed-identity
 * variables App Service sets point at it while the file runs (so `@azure/identity` runs its production path), and
 * are restored afterwards. Call at describe level; read `.sim` inside tests and hooks.
 */
export function useSimulator(options: SimulatorOptions & { identity?: boolean } = {}): { readonly sim: Simulator } {
  let sim: Simulator | undefined;
  const saved = { IDENTITY_ENDPOINT: process.env['IDENTITY_ENDPOINT'], IDENTITY_HEADER: process.env['IDENTITY_HEADER'] };
  beforeAll(async () => {
    sim = await startSimulator(options);
    if (options.identity) {
      process.env['IDENTITY_ENDPOINT'] = sim.identityEndpoint;
      process.env['IDENTITY_HEADER'] = sim.identityHeader;
    }
  });
  afterAll(async () => {
    if (options.identity) {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) {
          delete process.env[name];
        } else {
          process.env[name] = value;
        }
      }
    }
    await sim?.stop();
  });
  beforeEach(() => {
    sim?.reset();
  });
  return {
    get sim(): Simulator {
      if (!sim) {
        throw new Error('the simulator starts in beforeAll: read .sim inside a test or hook');
      }
      return sim;
    },
  };
}

/** The error `p` rejects with, checked to be a `type`; fails the test when `p` resolves. */
export async function rejectionOf<E>(p: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as E;
}
