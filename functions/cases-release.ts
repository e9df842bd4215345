import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { httpHandler } from '../shared/http/http-handler';
import { jsonResponse } from '../shared/http/problem-response';
import { readJsonBody } from '../shared/http/read-json-body';
import { parseClientPrincipal } from '../shared/approvals/client-principal';
import { requestRelease } from '../shared/approvals/request-release';

/** POST /api/cases/{caseId}/release { targetId, reason }: asks to release a contained target (an approval). */
app.http('cases-release', {
  methods: ['POST'],
  route: 'cases/{caseId}/release',
  authLevel: 'function',
  handler: httpHandler(async (request, context) => {
    const deps = await getDeps();
    const body = await readJsonBody(request);
    const result = await requestRelease({ ...deps, log: context }, (request.params['caseId'] ?? '').toLowerCase(), body, parseClientPrincipal(request.headers));
    return jsonResponse(result.created ? 202 : 200, result);
  }),
});
