import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getConfig } from '../shared/config';
import { getDeps } from '../shared/deps';
import { checkDrift } from '../shared/lifecycle/check-drift';

/** Keeps contained agents contained: one re-enabled outside the release process gets a new case. */
app.timer('drift-check', {
  schedule: getConfig().DRIFT_CHECK_SCHEDULE,
  handler: async (_timer, context) => {
    const deps = await getDeps();
    await checkDrift(deps, context);
  },
});
