import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RpcHttpCookie, RpcHttpData, RpcInvocationResponse, RpcTypedData } from './core-types';
import type { DevEasyAuth } from './dev-easy-auth';
import type { FunctionRunner } from './function-runner';
import { errorMessage, httpRouteOf, type FunctionInfo, type HostedFunction } from './hosted-function';
import type { HostLogger } from './host-logger';
import { compareRoutePrecedence, compileRouteTemplate, type RouteTemplate } from './route-template';

export interface HttpHostDeps {
  functions: HostedFunction[];
  routePrefix: string;
  runner: FunctionRunner;
  logger: HostLogger;
  easyAuth: DevEasyAuth | undefined;
  functionInfos(): FunctionInfo[];
  /** Runs a non-HTTP function now with `input` as its trigger payload (admin API). */
  invokeNow(fn: HostedFunction, input: string): Promise<unknown>;
}

interface HttpRoute {
  fn: HostedFunction;
  template: RouteTemplate;
  methods: Set<string> | undefined;
}

/**
 * The host's HTTP front door: `/api/...` routes to HTTP-triggered functions, `/admin/...` to the admin API, and
 * `/.auth/...` to the development Easy Auth stand-in when enabled.
 */
export function createHttpHandler(deps: HttpHostDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const routes: HttpRoute[] = deps.functions
    .filter((fn) => fn.triggerType === 'httptrigger' && !fn.disabled)
    .map((fn) => {
      const methods = fn.trigger['methods'];
      return {
        fn,
        template: compileRouteTemplate(httpRouteOf(fn)),
        methods: Array.isArray(methods) && methods.length > 0 ? new Set(methods.map((m) => String(m).toUpperCase())) : undefined,
      };
    })
    .sort((a, b) => compareRoutePrecedence(a.template, b.template));

  return (req, res) => {
    handle(deps, routes, req, res).catch((err: unknown) => {
      deps.logger.error(`Unhandled error serving ${req.method} ${redactUrl(req.url ?? '/')}: ${errorMessage(err)}`);
      if (!res.headersSent) {
        sendText(res, 500, 'Internal Server Error');
      } else {
        res.destroy();
      }
    });
  };
}

async function handle(deps: HttpHostDeps, routes: HttpRoute[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  const path = url.pathname;

  if (deps.easyAuth?.handle(req, res, url, body)) {
    return;
  }
  if (path.toLowerCase().startsWith('/admin/')) {
    await handleAdmin(deps, req, res, url, body);
    return;
  }

  const prefix = deps.routePrefix ? `/${deps.routePrefix}` : '';
  const lower = path.toLowerCase();
  if (prefix && lower !== prefix && !lower.startsWith(`${prefix}/`)) {
    sendText(res, 404, '');
    return;
  }
  const subPath = path.slice(prefix.length);
  const method = (req.method ?? 'GET').toUpperCase();
  let pathMatched = false;
  const allowed = new Set<string>();
  for (const route of routes) {
    const params = route.template.match(subPath);
    if (!params) {
      continue;
    }
    pathMatched = true;
    if (route.methods && !route.methods.has(method)) {
      route.methods.forEach((m) => allowed.add(m));
      continue;
    }
    await invokeHttp(deps, route.fn, req, res, url, params, body);
    return;
  }
  if (pathMatched) {
    res.setHeader('Allow', [...allowed].join(', '));
    sendText(res, 405, '');
    return;
  }
  sendText(res, 404, '');
}

async function invokeHttp(
  deps: HttpHostDeps,
  fn: HostedFunction,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  params: Record<string, string>,
  body: Buffer,
): Promise<void> {
  const incoming = deps.easyAuth ? await deps.easyAuth.incomingHeaders(req) : { ok: true as const, headers: requestHeaders(req) };
  if (!incoming.ok) {
    res.setHeader('WWW-Authenticate', 'Bearer');
    sendText(res, incoming.status, incoming.message);
    return;
  }
  const { headers } = incoming;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = k in query ? `${query[k]},${v}` : v;
  }
  const http: RpcHttpData = {
    method: (req.method ?? 'GET').toUpperCase(),
    url: url.toString(),
    headers,
    query,
    params,
    body: { bytes: body },
  };

  let response: RpcInvocationResponse;
  try {
    response = await deps.runner.run(fn, {
      data: { http },
      reason: `This function was programmatically called via the host APIs.`,
      traceParent: headers['traceparent'],
    });
  } catch {
    // The runner logged the full error; callers only get a generic 500, as from the real host.
    sendText(res, 500, 'Internal Server Error');
    return;
  }
  writeHttpResponse(res, httpOutputOf(fn, response));
}

/** The HTTP output: `$return` for `app.http(...)`, or a named `output.http` binding set via extraOutputs. */
function httpOutputOf(fn: HostedFunction, response: RpcInvocationResponse): RpcHttpData | undefined {
  for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
    if (binding.direction === 'out' && (binding.type ?? '').toLowerCase() === 'http') {
      const data = name === '$return' ? response.returnValue : response.outputData?.find((o) => o.name === name)?.data;
      if (data?.http) {
        return data.http;
      }
    }
  }
  return undefined;
}

function writeHttpResponse(res: ServerResponse, http: RpcHttpData | undefined): void {
  if (!http) {
    // Handler returned nothing: the host answers 204 without a body.
    res.statusCode = 204;
    res.end();
    return;
  }
  res.statusCode = Number(http.statusCode ?? 200) || 200;
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    // The library folds multiple values into one comma-joined string; Set-Cookie comes via cookies instead.
    res.setHeader(name, value);
  }
  const cookies = (http.cookies ?? []).map(serializeCookie);
  if (cookies.length > 0) {
    const existing = res.getHeader('set-cookie');
    const previous = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    res.setHeader('Set-Cookie', [...previous, ...cookies]);
  }
  const bytes = bodyBytes(http.body);
  if (res.statusCode === 204 || res.statusCode === 304 || bytes.length === 0) {
    res.end();
  } else {
    res.end(bytes);
  }
}

function bodyBytes(body: RpcTypedData | null | undefined): Buffer {
  if (!body) {
    return Buffer.alloc(0);
  }
  if (body.bytes) {
    return Buffer.from(body.bytes);
  }
  if (typeof body.string === 'string') {
    return Buffer.from(body.string, 'utf8');
  }
  if (typeof body.json === 'string') {
    return Buffer.from(body.json, 'utf8');
  }
  return Buffer.alloc(0);
}

function serializeCookie(cookie: RpcHttpCookie): string {
  const parts = [`${cookie.name ?? ''}=${cookie.value ?? ''}`];
  if (cookie.domain?.value) {
    parts.push(`Domain=${cookie.domain.value}`);
  }
  if (cookie.path?.value) {
    parts.push(`Path=${cookie.path.value}`);
  }
  const seconds = cookie.expires?.value?.seconds;
  if (typeof seconds === 'number') {
    parts.push(`Expires=${new Date(seconds * 1000).toUTCString()}`);
  }
  if (typeof cookie.maxAge?.value === 'number') {
    parts.push(`Max-Age=${Math.trunc(cookie.maxAge.value)}`);
  }
  if (cookie.secure?.value) {
    parts.push('Secure');
  }
  if (cookie.httpOnly?.value) {
    parts.push('HttpOnly');
  }
  if (cookie.sameSite === 'lax') {
    parts.push('SameSite=Lax');
  } else if (cookie.sameSite === 'strict') {
    parts.push('SameSite=Strict');
  } else if (cookie.sameSite === 'explicitNone') {
    parts.push('SameSite=None');
  }
  return parts.join('; ');
}

/**
 * Incoming headers as the function sees them on App Service with its Authentication module off: as the client
 * sent them, forged `x-ms-client-principal*` and `x-ms-token-*` headers included (only the module strips them,
 * which is why the app verifies tokens instead of trusting headers). With dev Easy Auth on, it filters them.
 */
function requestHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) {
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return headers;
}

/** A request URL fit for a log line: approval link tokens and other secrets in the query are never printed. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?(query omitted)`;
}

async function handleAdmin(
  deps: HttpHostDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
): Promise<void> {
  const path = url.pathname.replace(/\/+$/, '');
  const method = (req.method ?? 'GET').toUpperCase();
  if (path.toLowerCase() === '/admin/host/status' && method === 'GET') {
    sendJson(res, 200, { state: 'Running' });
    return;
  }
  if (path.toLowerCase() === '/admin/functions' && method === 'GET') {
    sendJson(res, 200, deps.functionInfos());
    return;
  }
  const invokeMatch = /^\/admin\/functions\/([^/]+)$/i.exec(path);
  if (!invokeMatch?.[1]) {
    sendText(res, 404, '');
    return;
  }
  const name = decodeURIComponent(invokeMatch[1]);
  const fn = deps.functions.find((f) => f.name.toLowerCase() === name.toLowerCase());
  if (!fn) {
    sendText(res, 404, '');
    return;
  }
  if (method === 'GET') {
    sendJson(res, 200, deps.functionInfos().find((f) => f.name === fn.name));
    return;
  }
  if (method !== 'POST') {
    sendText(res, 405, '');
    return;
  }
  if (fn.triggerType === 'httptrigger') {
    sendText(res, 400, `Function '${fn.name}' is HTTP-triggered: call its route instead.`);
    return;
  }
  let input = '';
  try {
    const parsed: unknown = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
    if (typeof parsed === 'object' && parsed !== null && 'input' in parsed && parsed.input !== undefined) {
      input = typeof parsed.input === 'string' ? parsed.input : JSON.stringify(parsed.input);
    }
  } catch {
    sendText(res, 400, 'Body must be JSON like {"input": "..."}');
    return;
  }

  const run = deps.invokeNow(fn, input);
  if (url.searchParams.get('wait') !== 'true') {
    // Errors are already logged by the runner; the real host also answers before the run finishes.
    run.catch(() => undefined);
    sendText(res, 202, '');
    return;
  }
  try {
    await run;
    sendText(res, 200, '');
  } catch (err) {
    sendText(res, 500, errorMessage(err));
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  if (text) {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  }
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(value));
}
