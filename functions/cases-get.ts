import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { httpHandler } from '../shared/http/http-handler';
import { jsonResponse } from '../shared/http/problem-response';
import { caseView } from '../shared/store/case-view';
import { NotFoundError } from '../shared/errors';
import { listCaseApprovals } from '../shared/approvals/list-case-approvals';

/** GET /api/cases/{caseId}: what was done, when, with which Graph request ids, what failed and why. */
export const casesGetHandler = httpHandler(async (request) => {
  const deps = await getDeps();
  const caseId = request.params['caseId'] ?? '';
  const bundle = /^[0-9a-f-]{36}$/i.test(caseId) ? await deps.cases.load(caseId.toLowerCase()) : undefined;
  if (!bundle) {
    throw new NotFoundError(`No case ${caseId}`);
  }
  const approvals = await listCaseApprovals(deps.approvals, bundle.record.caseId);
  return jsonResponse(200, { ...caseView(bundle), approvals }, { 'cache-control': 'no-store' });
});

app.http('cases-get', {
  methods: ['GET'],
  route: 'cases/{caseId}',
  authLevel: 'function',
  handler: casesGetHandler,
});
