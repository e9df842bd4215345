import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { viewApproval } from '../shared/approvals/approval-flow';
import { linkTokenOf } from '../shared/approvals/approval-link-cookie';
import { signedInPrincipal } from '../shared/auth/signed-in-principal';
import { httpHandler } from '../shared/http/http-handler';

/**
 * GET /api/approvals/{approvalId}?token=…: the confirmation page. No side effect on the approval (link
 * scanners open it); the signed-in principal is verified from the Entra ID token App Service Authentication passes.
 */
export const approvalsGetHandler = httpHandler(async (request, context) => {
  const deps = await getDeps();
  const who = await signedInPrincipal(deps, request.headers);
  const token = linkTokenOf(new URL(request.url), request.headers.get('cookie'));
  const page = await viewApproval({ ...deps, log: context }, request.params['approvalId'] ?? '', token, who);
  return { status: page.status, headers: page.headers, body: page.body, ...(page.cookies ? { cookies: page.cookies } : {}) };
});

app.http('approvals-get', {
  methods: ['GET'],
  route: 'approvals/{approvalId}',
  authLevel: 'anonymous',
  handler: approvalsGetHandler,
});
