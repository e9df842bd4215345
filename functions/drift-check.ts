import '../shared/telemetry/register-telemetry';
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getConfig } from '../shared/config';
import { getDeps } from '../shared/deps';
import { checkDrift } from '../shared/lifecycle/check-drift';

/** Keeps contained agents contained: one re-enabled outside the release process gets a new case. */
export const driftCheckHandler = async (_timer: Timer, context: InvocationContext): Promise<void> => {
  const deps = await getDeps();
  await checkDrift(deps, context);
};

app.timer('drift-check', {
  schedule: getConfig().DRIFT_CHECK_SCHEDULE,
  handler: driftCheckHandler,
});
