import '../shared/telemetry/register-telemetry';
import { app, type HttpResponseInit } from '@azure/functions';
import { getConfig } from '../shared/config';
import { getHealth } from '../shared/health/get-health';
import { jsonResponse } from '../shared/http/problem-response';
import { authStatus } from '../shared/auth/auth-settings';
import { consoleLogger } from '../shared/logger';

/** Anonymous liveness: version, mode, whether storage answers and whether sign-in is verified. No settings or secrets. */
export const healthHandler = async (): Promise<HttpResponseInit> => {
  const health = await getHealth(getConfig());
  return jsonResponse(health.storage === 'reachable' ? 200 : 503, health, { 'cache-control': 'no-store' });
};

app.http('health', {
  methods: ['GET'],
  route: 'health',
  authLevel: 'anonymous',
  handler: healthHandler,
});

/** One line at start-up saying whether signed-in principals can be trusted (a warning when they cannot). */
app.hook.appStart(() => {
  let status: ReturnType<typeof authStatus>;
  try {
    status = authStatus(getConfig());
  } catch {
    return; // bad settings are reported by every function that reads them
  }
  const line = `Sign-in: ${status.signIn}. ${status.detail}`;
  if (status.signIn === 'off') {
    consoleLogger.warn(line);
  } else {
    consoleLogger.info(line);
  }
});
