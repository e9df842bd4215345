import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { deliverTeamsCard } from '../shared/teams/deliver-teams-card';
import { TEAMS_QUEUE } from '../shared/store/teams-card-queue';

/** Posts queued approval cards to the Teams channel (TEAMS_WEBHOOK_URL), retrying a throttled or failing Teams. */
app.storageQueue('teams-cards-queue', {
  queueName: TEAMS_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    await deliverTeamsCard({ ...(await getDeps()), log: context }, message);
  },
});
