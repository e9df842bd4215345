import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { logEvent } from './log-event';

/**
 * Logs an HTTP answer that is not a success, with its status and problem type: the Functions host records such an
 * invocation as "Succeeded" (the function returned), so without this line a refused request (400, 401, 403, 404,
 * 409, 413, 415, 422) is indistinguishable from a served one. The path is logged without its query, which may hold
 * an approval link token; the case or approval id comes from the route.
 *
 * @example
 * logHttpAnswer(context, request, { status: 415, jsonBody: { type: '…/unsupported-media-type' } });
 * // {"event":"http.refused","function":"approvals-post","status":415,"problemType":"…/unsupported-media-type",…}
 */
export function logHttpAnswer(context: Pick<InvocationContext, 'functionName' | 'info' | 'warn' | 'error'>, request: Pick<HttpRequest, 'method' | 'url' | 'params'>, response: HttpResponseInit): void {
  const status = response.status ?? 200;
  if (status < 400) {
    return;
  }
  const problem = typeof response.jsonBody === 'object' && response.jsonBody !== null ? (response.jsonBody as Record<string, unknown>) : undefined;
  logEvent(
    context,
    status >= 500 ? 'http.failed' : 'http.refused',
    {
      caseId: request.params['caseId'],
      approvalId: request.params['approvalId'],
      function: context.functionName,
      method: request.method,
      path: pathOf(request.url),
      status,
      problemType: typeof problem?.['type'] === 'string' ? problem['type'] : undefined,
      title: typeof problem?.['title'] === 'string' ? problem['title'] : undefined,
    },
    status >= 500 ? 'error' : 'warn',
  );
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}
