import '../shared/telemetry/register-telemetry';
import { app, output } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { httpHandler, publicBase } from '../shared/http/http-handler';
import { jsonResponse } from '../shared/http/problem-response';
import { readJsonBodyText } from '../shared/http/read-json-body';
import { parseAlert } from '../shared/alerts/parse-alert';
import { acceptAlert, assertIntakeAllowed } from '../shared/intake/accept-alert';
import { callerPrincipal } from '../shared/auth/caller-principal';
import { AppError } from '../shared/errors';
import { QUEUES } from '../shared/store/storage';

/** The hand-off to the responder: a queue output binding, written by the host before the answer is sent. */
const containmentQueue = output.storageQueue({ queueName: QUEUES.containment, connection: 'AzureWebJobsStorage' });

/** POST /api/alerts: Sentinel incident / alert / entity trigger bodies and direct requests. */
export const alertsPostHandler = httpHandler(async (request, context) => {
  const deps = await getDeps();
  const { value, text } = await readJsonBodyText(request);
  const alert = parseAlert(value);
  // The caller is who the bearer token says, verified here; a token that fails is refused, not ignored.
  const who = await callerPrincipal(deps, request.headers);
  if (!who.ok && who.reason === 'invalid-token') {
    throw new AppError('InvalidCallerToken', 401, who.detail);
  }
  const caller = who.ok ? who.principal : undefined;
  await assertIntakeAllowed(deps, alert, caller);
  const result = await acceptAlert(deps, alert, text, caller);
  if (result.enqueue) {
    context.extraOutputs.set(containmentQueue, { caseId: result.caseId, ...(result.hint ? { hint: result.hint } : {}) });
  }
  const statusUrl = `${publicBase(request, deps.config.PUBLIC_BASE_URL)}/api/cases/${result.caseId}`;
  context.info(JSON.stringify({ caseId: result.caseId, status: result.status, dedupeKey: alert.dedupeKey, targets: alert.targets.length }));
  if (result.status === 422) {
    return {
      status: 422,
      headers: { 'content-type': 'application/problem+json' },
      jsonBody: {
        type: 'https://agent-responders.dev/problems/no-usable-target',
        title: 'No usable target',
        status: 422,
        detail: 'No entity in the body identifies an Entra identity. The case was recorded.',
        caseId: result.caseId,
        statusUrl,
        errors: alert.rejected.map((r) => ({ field: r.path, message: r.reason })),
      },
    };
  }
  return jsonResponse(result.status, { caseId: result.caseId, statusUrl, added: result.added }, { location: statusUrl });
});

app.http('alerts-post', {
  methods: ['POST'],
  route: 'alerts',
  authLevel: 'function',
  extraOutputs: [containmentQueue],
  handler: alertsPostHandler,
});
