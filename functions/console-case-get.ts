import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { httpHandler } from '../shared/http/http-handler';
import { viewCase } from '../shared/console/view-case';

/** GET /api/console/cases/{caseId}: one case's page (timeline, approvals, time to contain, release form). */
export const consoleCaseGetHandler = httpHandler(async (request, context) => {
  const page = await viewCase({ ...(await getDeps()), log: context }, request.headers, request.params['caseId'] ?? '', new URL(request.url).searchParams);
  return { status: page.status, headers: page.headers, body: page.body };
});

app.http('console-case-get', {
  methods: ['GET'],
  route: 'console/cases/{caseId}',
  authLevel: 'anonymous',
  handler: consoleCaseGetHandler,
});
