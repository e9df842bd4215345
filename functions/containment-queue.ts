import '../shared/telemetry/register-telemetry';
import { app, type InvocationContext } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { processCaseMessage } from '../shared/responder/process-case-message';
import { QUEUES } from '../shared/store/storage';

/** The responder: one message per case; plans per target inside. */
export const containmentQueueHandler = async (message: unknown, context: InvocationContext): Promise<void> => {
  const deps = await getDeps();
  await processCaseMessage(deps, message, { id: context.invocationId, log: context });
};

app.storageQueue('containment-queue', {
  queueName: QUEUES.containment,
  connection: 'AzureWebJobsStorage',
  handler: containmentQueueHandler,
});
