import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { processCaseMessage } from '../shared/responder/process-case-message';
import { QUEUES } from '../shared/store/storage';

/** The responder: one message per case; plans per target inside. */
app.storageQueue('containment-queue', {
  queueName: QUEUES.containment,
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    const deps = await getDeps();
    await processCaseMessage(deps, message, { id: context.invocationId, log: context });
  },
});
