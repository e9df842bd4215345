import '../shared/telemetry/register-telemetry';
import { app, type InvocationContext } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { deliverTeamsCard } from '../shared/teams/deliver-teams-card';
import { TEAMS_QUEUE } from '../shared/store/teams-card-queue';

/** Posts queued approval cards to the Teams channel (TEAMS_WEBHOOK_URL), retrying a throttled or failing Teams. */
export const teamsCardsQueueHandler = async (message: unknown, context: InvocationContext): Promise<void> => {
  await deliverTeamsCard({ ...(await getDeps()), log: context }, message);
};

app.storageQueue('teams-cards-queue', {
  queueName: TEAMS_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: teamsCardsQueueHandler,
});
