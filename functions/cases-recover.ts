import '../shared/telemetry/register-telemetry';
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { recoverStuckCases } from '../shared/responder/recover-stuck-cases';

/** Every two minutes: re-queue cases that lost their queue message or their worker. */
export const casesRecoverHandler = async (_timer: Timer, context: InvocationContext): Promise<void> => {
  const deps = await getDeps();
  const { requeued } = await recoverStuckCases({ ...deps, log: context });
  if (requeued.length > 0) {
    context.warn(JSON.stringify({ requeued }));
  }
};

app.timer('cases-recover', {
  schedule: '0 */2 * * * *',
  handler: casesRecoverHandler,
});
