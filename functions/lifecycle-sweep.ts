import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getConfig } from '../shared/config';
import { getDeps } from '../shared/deps';
import { runLifecycleSweep } from '../shared/lifecycle/run-lifecycle-sweep';

/** The expiry sweep: warns ahead of an agent's end of lifecycle, disables expired agents, tickets orphans. */
app.timer('lifecycle-sweep', {
  schedule: getConfig().LIFECYCLE_SWEEP_SCHEDULE,
  handler: async (_timer, context) => {
    const deps = await getDeps();
    await runLifecycleSweep(deps, { invocationId: context.invocationId, log: context });
  },
});
