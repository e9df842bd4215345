import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { failCase } from '../shared/plans/fail-case';
import { QUEUES } from '../shared/store/storage';

/** Messages the host gave up on (after host.json `maxDequeueCount`): mark the case failed, ask a human. */
app.storageQueue('containment-poison', {
  queueName: `${QUEUES.containment}-poison`,
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    const deps = await getDeps();
    await failCase(deps, message, { id: context.invocationId, log: context });
  },
});
