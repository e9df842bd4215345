import type { HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { ensureAppError, ensureError } from '../errors';
import { redactSecrets } from '../telemetry/redact-secrets';

/** Base of every problem `type` URI; the code's kebab-case form is appended. */
export const PROBLEM_TYPE_BASE = 'https://agent-responders.dev/problems/';

/** An RFC 9457 problem details body, as this app writes it. */
export const problemDetailsSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
export type ProblemDetails = z.infer<typeof problemDetailsSchema>;

/** Where unexpected errors are logged; a narrow shape so an `InvocationContext` or `console` both fit. */
export interface ProblemLogger {
  error(...args: unknown[]): void;
}

/** Options for {@link problemResponse}. */
export interface ProblemResponseOptions {
  /** URI of this occurrence, e.g. the request path or an invocation id. */
  instance?: string;
  /** Receives unexpected (5xx) errors in full; defaults to `console`. */
  log?: ProblemLogger;
}

const GENERIC_DETAIL = 'An unexpected error occurred. It has been logged.';

/**
 * The one place an error becomes an HTTP answer. An {@link AppError} gives an `application/problem+json`
 * body with its status, a `type` derived from its code and its field problems as `errors`; anything else
 * becomes a generic 500 whose details go to the log only. Server-side (5xx) errors are always logged.
 * Stack traces never reach the body, and token-like strings are masked in case a message carries one.
 *
 * @example
 * try { ... } catch (err) { return problemResponse(err, { instance: request.url, log: context }); }
 */
export function problemResponse(err: unknown, opts: ProblemResponseOptions = {}): HttpResponseInit {
  const appError = ensureAppError(err);
  const unexpected = appError !== err;
  if (appError.status >= 500) {
    (opts.log ?? console).error(
      unexpected ? 'Unhandled error' : `Server error ${appError.code}`,
      unexpected ? ensureError(err) : appError,
    );
  }

  const body: ProblemDetails = {
    type: PROBLEM_TYPE_BASE + kebabCase(appError.code),
    title: titleFromCode(appError.code),
    status: appError.status,
    detail: unexpected ? GENERIC_DETAIL : redactSecrets(appError.message),
  };
  if (opts.instance !== undefined) {
    body.instance = opts.instance;
  }
  if (appError.fields.length > 0) {
    body.errors = appError.fields.map((f) => ({ field: f.field, message: redactSecrets(f.message) }));
  }
  return {
    status: appError.status,
    jsonBody: body,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
  };
}

/**
 * A JSON response. `headers` are added to (and may override) `content-type: application/json`.
 *
 * @example
 * return jsonResponse(202, { caseId, statusUrl }, { location: statusUrl });
 */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json', ...headers } };
}

/** `ValidationFailed` → `validation-failed`; `Authorization_RequestDenied` → `authorization-request-denied`. */
export function kebabCase(code: string): string {
  const kebab = code
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();
  return kebab === '' ? 'error' : kebab;
}

/** A title that names the problem type, not the occurrence (RFC 9457 §3.1.3): `ValidationFailed` → `Validation failed`. */
function titleFromCode(code: string): string {
  const words = kebabCase(code).split('-').join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
