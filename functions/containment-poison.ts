import '../shared/telemetry/register-telemetry';
import { app, type InvocationContext } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { failCase } from '../shared/plans/fail-case';
import { QUEUES } from '../shared/store/storage';

/** Messages the host gave up on (after host.json `maxDequeueCount`): mark the case failed, ask a human. */
export const containmentPoisonHandler = async (message: unknown, context: InvocationContext): Promise<void> => {
  const deps = await getDeps();
  await failCase(deps, message, { id: context.invocationId, log: context });
};

app.storageQueue('containment-poison', {
  queueName: `${QUEUES.containment}-poison`,
  connection: 'AzureWebJobsStorage',
  handler: containmentPoisonHandler,
});
