import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { httpHandler } from '../shared/http/http-handler';
import { readFormBody } from '../shared/http/read-form-body';
import { requestReleaseFromPage } from '../shared/console/request-release-from-page';

/** POST /api/console/cases/{caseId}/release: the case page's "Request release" form (anti-forgery token, reason). */
export const consoleCaseReleaseHandler = httpHandler(async (request, context) => {
  const body = await readFormBody(request, 'The release form');
  const page = await requestReleaseFromPage({ ...(await getDeps()), log: context }, request.headers, request.params['caseId'] ?? '', body);
  return { status: page.status, headers: page.headers, body: page.body };
});

app.http('console-case-release', {
  methods: ['POST'],
  route: 'console/cases/{caseId}/release',
  authLevel: 'anonymous',
  handler: consoleCaseReleaseHandler,
});
