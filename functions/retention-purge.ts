import '../shared/telemetry/register-telemetry';
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getConfig } from '../shared/config';
import { getDeps } from '../shared/deps';
import { purgeExpired } from '../shared/responder/purge-expired';

/** Daily: removes cases, their steps, audit rows and raw bodies older than RETENTION_DAYS. */
export const retentionPurgeHandler = async (_timer: Timer, context: InvocationContext): Promise<void> => {
  const deps = await getDeps();
  await purgeExpired(deps, context);
};

app.timer('retention-purge', {
  schedule: getConfig().RETENTION_SCHEDULE,
  handler: retentionPurgeHandler,
});
