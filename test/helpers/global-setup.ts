import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startAzurite, type AzuritePorts } from '../../dev/azurite';
import { ensureBundle } from '../../dev/bundle/bundle-app';

/** What the global setup provides to every test file of the integration, e2e and browser projects. */
export interface ProvidedAzurite extends AzuritePorts {
  /** Account names test files can claim; keys come from `deriveAccountKey`. */
  accounts: string[];
  /** Run-specific directory holding one marker file per claimed account. */
  claimDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    azurite: ProvidedAzurite;
  }
}

const ACCOUNT_COUNT = 64;

/** The part of vitest's TestProject used here (its module is ESM-only, this file is type-checked as CommonJS). */
interface ProvidingProject {
  provide(key: 'azurite', value: ProvidedAzurite): void;
}

/**
 * One Azurite for the whole run, with 64 extra accounts so that test files running in parallel each use their own
 * account (queues and tables never collide) without paying for an emulator per file.
 *
 * First, the deployment package (`dist/deploy`, package.json `main`) is bundled from the compiled app unless it is
 * already fresh: every test that starts the local host runs the bundle that is deployed, not the `tsc` output.
 */
export default async function setup(project: ProvidingProject): Promise<() => Promise<void>> {
  await ensureBundle(resolve(__dirname, '..', '..'));
  const accounts = Array.from({ length: ACCOUNT_COUNT }, (_, i) => `acct${String(i).padStart(2, '0')}`);
  const azurite = await startAzurite({ accounts });
  const claimDir = mkdtempSync(join(tmpdir(), 'storage-claims-'));
  project.provide('azurite', {
    blobPort: azurite.blobPort,
    queuePort: azurite.queuePort,
    tablePort: azurite.tablePort,
    accounts,
    claimDir,
  });
  return async () => {
    await azurite.stop();
    rmSync(claimDir, { recursive: true, force: true });
  };
}
