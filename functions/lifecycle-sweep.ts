import '../shared/telemetry/register-telemetry';
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getConfig } from '../shared/config';
import { getDeps } from '../shared/deps';
import { runLifecycleSweep } from '../shared/lifecycle/run-lifecycle-sweep';

/** The expiry sweep: warns ahead of an agent's end of lifecycle, disables expired agents, tickets orphans. */
export const lifecycleSweepHandler = async (_timer: Timer, context: InvocationContext): Promise<void> => {
  const deps = await getDeps();
  await runLifecycleSweep(deps, { invocationId: context.invocationId, log: context });
};

app.timer('lifecycle-sweep', {
  schedule: getConfig().LIFECYCLE_SWEEP_SCHEDULE,
  handler: lifecycleSweepHandler,
});
