import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getConfig } from '../shared/config';
import { getDeps } from '../shared/deps';
import { purgeExpired } from '../shared/responder/purge-expired';

/** Daily: removes cases, their steps, audit rows and raw bodies older than RETENTION_DAYS. */
app.timer('retention-purge', {
  schedule: getConfig().RETENTION_SCHEDULE,
  handler: async (_timer, context) => {
    const deps = await getDeps();
    await purgeExpired(deps, context);
  },
});
