/**
 * One error tree for the whole app. Every error the app raises on purpose is an {@link AppError} with a
 * stable `code` and the HTTP `status` it maps to; anything else is normalised by {@link ensureAppError}
 * and becomes a generic 500 whose details are logged, never returned.
 *
 * `safeMessage` is what may reach a caller or a ticket; `message` may carry more (never secrets).
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  /** Field-level problems, for 400 problem+json bodies. */
  readonly fields: ReadonlyArray<FieldProblem>;
  constructor(code: string, status: number, message: string, options?: { cause?: unknown; fields?: FieldProblem[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.fields = options?.fields ?? [];
  }
}

export interface FieldProblem {
  /** JSON path of the bad field, e.g. `object.properties.relatedEntities[0].properties.aadUserId`. */
  readonly field: string;
  readonly message: string;
}

/** 400: the input was understood but is not acceptable; `fields` names each bad field. */
export class ValidationError extends AppError {
  constructor(message: string, fields: FieldProblem[] = []) {
    super('ValidationFailed', 400, message, { fields });
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super('NotFound', 404, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(code: string, message: string) {
    super(code, 403, message);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string) {
    super(code, 409, message);
  }
}

/** A bad or missing setting; start-up stops with one message naming every bad setting. */
export class ConfigError extends AppError {
  constructor(message: string, fields: FieldProblem[]) {
    super('InvalidConfiguration', 500, message, { fields });
  }
}

/**
 * A failed call to an external service (Graph, ARM, ServiceNow, Jira, webhook). `transient` says whether
 * the same call may succeed later (429, 503, 504, network); `retryAfterMs` is the server's hint if any.
 */
export class UpstreamError extends AppError {
  readonly service: string;
  readonly httpStatus: number | undefined;
  readonly upstreamCode: string | undefined;
  readonly requestId: string | undefined;
  readonly transient: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(args: {
    service: string;
    message: string;
    httpStatus?: number | undefined;
    upstreamCode?: string | undefined;
    requestId?: string | undefined;
    transient: boolean;
    retryAfterMs?: number | undefined;
    cause?: unknown;
  }) {
    super(args.upstreamCode ?? `${args.service}Error`, 502, args.message, { cause: args.cause });
    this.service = args.service;
    this.httpStatus = args.httpStatus;
    this.upstreamCode = args.upstreamCode;
    this.requestId = args.requestId;
    this.transient = args.transient;
    this.retryAfterMs = args.retryAfterMs;
  }
}

/** Normalises anything thrown into an Error, so callers never handle `unknown`. */
export function ensureError(err: unknown): Error {
  if (err instanceof Error) {
    return err;
  }
  let text: string;
  try {
    text = typeof err === 'string' ? err : JSON.stringify(err);
  } catch {
    text = String(err);
  }
  return new Error(`Non-error thrown: ${text}`);
}

/** Normalises anything thrown into an AppError; unknown errors become a generic 500. */
export function ensureAppError(err: unknown): AppError {
  if (err instanceof AppError) {
    return err;
  }
  return new AppError('InternalError', 500, 'An unexpected error occurred.', { cause: ensureError(err) });
}
