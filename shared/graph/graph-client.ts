import { Client, HTTPMessageHandler, ResponseType, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import type { TokenCredential } from '@azure/identity';
import { UpstreamError, ensureAppError } from '../errors';
import { withTimeout } from '../net/call-timeout';
import { defaultRetryPolicy, isUnsent, withRetry, type Attempt, type RetryHooks, type RetryPolicy } from '../net/retry-policy';
import { networkToUpstreamError, responseToUpstreamError } from '../net/to-upstream-error';
import { traceOutbound } from '../telemetry/trace-outbound';

/** The token scope stays Graph's whatever `GRAPH_ENDPOINT` points at (a national cloud or the simulator). */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export type GraphVersion = 'v1.0' | 'beta';

export interface GraphCall {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path after the version, starting with `/`, ids already encoded (see {@link seg}). */
  path: string;
  version?: GraphVersion;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * False for a call whose repeat is a second effect (`sendMail`): it is retried only when the failure proves it
   * was not sent (429, no connection). Default true: Graph's writes here are idempotent by nature (PATCH
   * `accountEnabled`, confirmCompromised, revokeSignInSessions), so a retry after a lost answer is safe.
   */
  idempotent?: boolean;
  /** Absolute deadline shared with the caller's other calls (e.g. the chunks of a `$batch`); default the call's own budget. */
  deadline?: number;
}

export interface GraphResult<T> {
  status: number;
  body: T;
  requestId: string | undefined;
}

/**
 * A Graph caller with error translation, a time-out per attempt and a budget per call (`CALL_ATTEMPT_TIMEOUT_MS`,
 * `CALL_BUDGET_MS`), and retries of transient failures (408, 429, 5xx, time-out, dropped connection); every
 * resource module in `shared/graph/` takes one.
 */
export interface Graph {
  call<T = unknown>(call: GraphCall): Promise<GraphResult<T>>;
  /** Follows an absolute `@odata.nextLink`. */
  next<T = unknown>(nextLink: string): Promise<GraphResult<T>>;
}

export interface GraphOptions {
  credential: TokenCredential;
  endpoint: string;
  retry?: RetryPolicy;
  retryHooks?: RetryHooks;
  /** Counts every HTTP round trip (retries included), for benchmarks and sweep summaries. */
  onRequest?: (call: { method: string; path: string; status: number | undefined }) => void;
}

/** Encodes one path segment (an id or a UPN) for a Graph URL. */
export function seg(value: string): string {
  return encodeURIComponent(value).replace(/'/g, '%27');
}

/**
 * Attaches the bearer token to every request. The SDK's own AuthenticationHandler only does so for https
 * Graph hosts and `customHosts`, and its RetryHandler retries without jitter; we retry above the SDK instead.
 */
class BearerTokenHandler implements Middleware {
  private nextMiddleware: Middleware | undefined;
  constructor(private readonly provider: TokenCredentialAuthenticationProvider) {}
  async execute(context: Context): Promise<void> {
    const token = await this.provider.getAccessToken();
    const options = context.options ?? {};
    const headers = new Headers(options.headers);
    headers.set('Authorization', `Bearer ${token}`);
    context.options = { ...options, headers };
    if (!this.nextMiddleware) {
      throw new Error('BearerTokenHandler must not be the last middleware');
    }
    await this.nextMiddleware.execute(context);
  }
  setNext(next: Middleware): void {
    this.nextMiddleware = next;
  }
}

/** Builds the Graph client: `@azure/identity` credential → TokenCredentialAuthenticationProvider → the SDK. */
export function createGraph(options: GraphOptions): Graph {
  const provider = new TokenCredentialAuthenticationProvider(options.credential, { scopes: [GRAPH_SCOPE] });
  const auth = new BearerTokenHandler(provider);
  auth.setNext(new HTTPMessageHandler());
  const client = Client.initWithMiddleware({ middleware: auth, baseUrl: `${options.endpoint}/`, defaultVersion: 'v1.0' });
  const policy = options.retry ?? defaultRetryPolicy;

  const now = options.retryHooks?.now ?? Date.now;

  /** One attempt: token, request and answer within the attempt's time-out, errors translated; one span. */
  const once = <T>(method: string, url: { version: string; path: string; query: string }, at: Attempt, send: (signal: AbortSignal) => Promise<Response>): Promise<GraphResult<T>> => {
    const path = url.path;
    const full = `${options.endpoint}/${url.version}${url.path}${url.query}`;
    return traceOutbound({ service: 'Graph', method, url: full, attempt: at.attempt }, () => withTimeout('Graph', at.deadline - now(), async (signal) => {
      let response: Response;
      let text: string;
      try {
        response = await send(signal);
        text = await response.text();
      } catch (err) {
        options.onRequest?.({ method, path, status: undefined });
        throw networkToUpstreamError('Graph', err);
      }
      options.onRequest?.({ method, path, status: response.status });
      const requestId = response.headers.get('request-id') ?? undefined;
      const body = text.length > 0 ? safeJson(text) : undefined;
      if (!response.ok) {
        throw responseToUpstreamError('Graph', response.status, response.headers, body);
      }
      return { status: response.status, body: body as T, requestId };
    }), (r) => ({ status: r.status, requestId: r.requestId }));
  };

  return {
    call<T>(call: GraphCall): Promise<GraphResult<T>> {
      return withRetry(
        (_attempt, at) =>
          once<T>(call.method, { version: call.version ?? 'v1.0', path: call.path, query: call.query ? `?${new URLSearchParams(call.query).toString()}` : '' }, at, (signal) => {
            let request = client.api(call.path).version(call.version ?? 'v1.0').responseType(ResponseType.RAW).option('signal', signal);
            if (call.query) {
              request = request.query(call.query);
            }
            if (call.headers) {
              request = request.headers(call.headers);
            }
            switch (call.method) {
              case 'GET':
                return request.get() as Promise<Response>;
              case 'POST':
                return request.post(call.body ?? {}) as Promise<Response>;
              case 'PATCH':
                return request.patch(call.body ?? {}) as Promise<Response>;
              case 'DELETE':
                return request.delete() as Promise<Response>;
            }
          }),
        policy,
        { ...options.retryHooks, deadline: call.deadline, retryIf: call.idempotent === false ? isUnsent : undefined },
      );
    },
    next<T>(nextLink: string): Promise<GraphResult<T>> {
      // NOTE: the SDK recognises absolute URLs only when they start with https:// (GraphRequest.parsePath), so a
      // link is split here into version and path; it also keeps our token away from any other host.
      let link: { version: string; path: string; query: string };
      try {
        link = splitNextLink(options.endpoint, nextLink);
      } catch (err) {
        return Promise.reject(err instanceof UpstreamError ? err : ensureAppError(err));
      }
      return withRetry(
        (_attempt, at) =>
          once<T>('GET', link, at, (signal) =>
            client.api(`${link.path}${link.query}`).version(link.version).responseType(ResponseType.RAW).option('signal', signal).get() as Promise<Response>,
          ),
        policy,
        options.retryHooks,
      );
    },
  };
}

/**
 * Splits an absolute `@odata.nextLink` into the Graph version, the path after it and the query, refusing a link
 * outside `endpoint` (the bearer token goes only to the configured Graph).
 */
export function splitNextLink(endpoint: string, nextLink: string): { version: string; path: string; query: string } {
  const base = new URL(`${endpoint.replace(/\/+$/, '')}/`);
  const url = new URL(nextLink, base);
  const rest = url.pathname.startsWith(base.pathname) ? url.pathname.slice(base.pathname.length) : '';
  const slash = rest.indexOf('/');
  if (url.origin !== base.origin || slash <= 0) {
    throw new UpstreamError({ service: 'Graph', transient: false, upstreamCode: 'UnexpectedNextLink', message: `Graph returned a nextLink outside ${base.origin}${base.pathname}; not followed` });
  }
  return { version: rest.slice(0, slash), path: rest.slice(slash), query: url.search };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
