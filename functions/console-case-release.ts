import { app } from '@azure/functions';
import { getDeps } from '../shared/deps';
import { AppError } from '../shared/errors';
import { httpHandler } from '../shared/http/http-handler';
import { requestReleaseFromPage } from '../shared/console/request-release-from-page';

/** POST /api/console/cases/{caseId}/release: the case page's "Request release" form (anti-forgery token, reason). */
app.http('console-case-release', {
  methods: ['POST'],
  route: 'console/cases/{caseId}/release',
  authLevel: 'anonymous',
  handler: httpHandler(async (request, context) => {
    const type = request.headers.get('content-type') ?? '';
    if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      throw new AppError('UnsupportedMediaType', 415, 'The release form is posted as application/x-www-form-urlencoded from the case page.');
    }
    const body = await request.text();
    if (body.length > 16_384) {
      throw new AppError('PayloadTooLarge', 413, 'The release form is too large.');
    }
    const page = await requestReleaseFromPage({ ...(await getDeps()), log: context }, request.headers, request.params['caseId'] ?? '', body);
    return { status: page.status, headers: page.headers, body: page.body };
  }),
});
