import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { httpHandler } from '../shared/http/http-handler';
import { jsonResponse } from '../shared/http/problem-response';
import { readJsonBody } from '../shared/http/read-json-body';
import { setEmergencyStop } from '../shared/control/set-emergency-stop';

/**
 * POST /api/control/emergency-stop { stopped, reason }: stops every write within seconds (or resumes). GET shows
 * the state. Needs the host's master key (`authLevel: 'admin'`), which only those who administer the app hold.
 * NOTE: routes may not start with `admin/`: the Functions host reserves that prefix for its own API.
 */
export const controlEmergencyStopHandler = httpHandler(async (request) => {
  const deps = await getDeps();
  if (request.method === 'GET') {
    return jsonResponse(200, await deps.stop.state(), { 'cache-control': 'no-store' });
  }
  const state = await setEmergencyStop(deps, await readJsonBody(request), 'admin-key');
  return jsonResponse(200, state, { 'cache-control': 'no-store' });
});

app.http('control-emergency-stop', {
  methods: ['GET', 'POST'],
  route: 'control/emergency-stop',
  authLevel: 'admin',
  handler: controlEmergencyStopHandler,
});
