import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { decideApproval } from '../shared/approvals/approval-flow';
import { signedInPrincipal } from '../shared/auth/signed-in-principal';
import { httpHandler } from '../shared/http/http-handler';
import { AppError } from '../shared/errors';

/** POST /api/approvals/{approvalId}: the decision (form post with the link token and anti-forgery token). */
export const approvalsPostHandler = httpHandler(async (request, context) => {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new AppError('UnsupportedMediaType', 415, 'Decisions are posted as application/x-www-form-urlencoded from the approval page.');
  }
  const body = await request.text();
  if (body.length > 16_384) {
    throw new AppError('PayloadTooLarge', 413, 'The decision form is too large.');
  }
  const deps = await getDeps();
  const who = await signedInPrincipal(deps, request.headers);
  const page = await decideApproval({ ...deps, log: context }, request.params['approvalId'] ?? '', body, who);
  return { status: page.status, headers: page.headers, body: page.body, ...(page.cookies ? { cookies: page.cookies } : {}) };
});

app.http('approvals-post', {
  methods: ['POST'],
  route: 'approvals/{approvalId}',
  authLevel: 'anonymous',
  handler: approvalsPostHandler,
});
