import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { azuriteConnectionString } from '../../dev/azurite';

/**
 * Returns a connection string for a storage account of the shared Azurite that no other test file in this run has
 * claimed. The claim is a file created with `wx` (fails if it exists), which is atomic across worker processes.
 */
export function claimStorageAccount(): string {
  const azurite = inject('azurite');
  for (const account of azurite.accounts) {
    try {
      closeSync(openSync(join(azurite.claimDir, account), 'wx'));
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'EEXIST') {
        continue;
      }
      throw err;
    }
    return azuriteConnectionString(azurite, account);
  }
  throw new Error(`All ${azurite.accounts.length} Azurite accounts are claimed; raise ACCOUNT_COUNT in global-setup.ts`);
}
