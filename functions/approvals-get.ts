import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { viewApproval } from '../shared/approvals/approval-flow';
import { parseClientPrincipal } from '../shared/approvals/client-principal';
import { httpHandler } from '../shared/http/http-handler';

/**
 * GET /api/approvals/{approvalId}?token=…: the confirmation page. No side effect on the approval (link
 * scanners open it); the signed-in principal comes from App Service Authentication.
 */
app.http('approvals-get', {
  methods: ['GET'],
  route: 'approvals/{approvalId}',
  authLevel: 'anonymous',
  handler: httpHandler(async (request, context) => {
    const deps = await getDeps();
    const url = new URL(request.url);
    const page = await viewApproval({ ...deps, log: context }, request.params['approvalId'] ?? '', url.searchParams.get('token') ?? undefined, parseClientPrincipal(request.headers), `${url.pathname}${url.search}`);
    return { status: page.status, headers: page.headers, body: page.body };
  }),
});
