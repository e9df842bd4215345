import '../shared/telemetry/register-telemetry';
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getConfig } from '../shared/config';
import { getDeps } from '../shared/deps';
import { expireApprovals } from '../shared/approvals/expire-approvals';

/** Expires undecided approvals at their deadline and escalates on the ticket, re-drives decisions whose run was never queued, and announces requests on the channels their first announcement missed. */
export const approvalsExpireHandler = async (_timer: Timer, context: InvocationContext): Promise<void> => {
  const deps = await getDeps();
  const result = await expireApprovals({ ...deps, log: context });
  context.info(JSON.stringify({ approvals: result }));
};

app.timer('approvals-expire', {
  schedule: getConfig().APPROVAL_EXPIRY_SCHEDULE,
  handler: approvalsExpireHandler,
});
