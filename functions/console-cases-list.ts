import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { httpHandler } from '../shared/http/http-handler';
import { viewCaseList } from '../shared/console/view-case-list';

/**
 * GET /api/console/cases: the case list for the SOC. Anonymous at the Functions level because App Service
 * Authentication signs people in; the page acts only for a verified, allowed viewer.
 */
export const consoleCasesListHandler = httpHandler(async (request, context) => {
  const page = await viewCaseList({ ...(await getDeps()), log: context }, request.headers, new URL(request.url));
  return { status: page.status, headers: page.headers, body: page.body };
});

app.http('console-cases-list', {
  methods: ['GET'],
  route: 'console/cases',
  authLevel: 'anonymous',
  handler: consoleCasesListHandler,
});
