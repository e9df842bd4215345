import type { Config } from '../config';
import type { Deps } from '../deps';
import { ensureError } from '../errors';
import type { Logger } from '../logger';
import { checkGraphPermissions } from './check-graph-permissions';
import { enabledGraphFeatures } from './graph-permission-table';

/**
 * Logs one line about the Graph permissions of our own token: a warning naming each enabled feature and the
 * permissions it lacks, or an info line when all are there. Never throws (start-up must not fail on a report).
 */
export async function logGraphPermissions(deps: () => Promise<Pick<Deps, 'credential'>>, config: () => Config, log: Logger): Promise<void> {
  try {
    const report = await checkGraphPermissions((await deps()).credential, enabledGraphFeatures(config()));
    const line = JSON.stringify({ msg: 'graph permissions', ...report });
    if (report.status === 'ok') {
      log.info(line);
    } else {
      log.warn(line);
    }
  } catch (err) {
    log.warn(JSON.stringify({ msg: 'graph permissions not checked', error: ensureError(err).message }));
  }
}
