import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { problemResponse } from './problem-response';
import { logHttpAnswer } from '../telemetry/log-http-answer';

/**
 * Wraps an HTTP handler so that every error becomes one problem+json answer (the single error→response
 * rule) and unknown errors are logged in full but answered with a generic 500. Every answer of 400 or more,
 * thrown or returned, gets one log line with its status and problem type (the host logs it as "Succeeded").
 */
export function httpHandler(handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>): HttpHandler {
  return async (request, context) => {
    let response: HttpResponseInit;
    try {
      response = await handler(request, context);
    } catch (err) {
      response = problemResponse(err, { instance: new URL(request.url).pathname, log: context });
    }
    logHttpAnswer(context, request, response);
    return response;
  };
}

/** Base URL for links in answers: `PUBLIC_BASE_URL` when set (behind a proxy), else the request's origin. */
export function publicBase(request: HttpRequest, configured: string | undefined): string {
  return configured ?? new URL(request.url).origin;
}
