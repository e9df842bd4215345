import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { httpHandler } from '../shared/http/http-handler';
import { jsonResponse } from '../shared/http/problem-response';
import { readJsonBody } from '../shared/http/read-json-body';
import { signedInPrincipal } from '../shared/auth/signed-in-principal';
import { requestRelease } from '../shared/approvals/request-release';

/**
 * POST /api/cases/{caseId}/release { targetId, reason }: asks to release a contained target (an approval). The
 * requester is the person signed in through App Service Authentication, verified from their ID token; the
 * function key alone cannot ask.
 */
export const casesReleaseHandler = httpHandler(async (request, context) => {
  const deps = await getDeps();
  const who = await signedInPrincipal(deps, request.headers);
  const body = await readJsonBody(request);
  const result = await requestRelease({ ...deps, log: context }, (request.params['caseId'] ?? '').toLowerCase(), body, who);
  return jsonResponse(result.created ? 202 : 200, result);
});

app.http('cases-release', {
  methods: ['POST'],
  route: 'cases/{caseId}/release',
  authLevel: 'function',
  handler: casesReleaseHandler,
});
