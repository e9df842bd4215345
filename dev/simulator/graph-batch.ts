import type { FaultRules } from './faults';
import { randomFault } from './faults';
import type { GraphCall, GraphEnv } from './graph-routes';
import { graphError, handleGraphCall } from './graph-routes';
import type { SimResponse } from './sim-http';
import { isRecord, json, newGuid } from './sim-http';
import type { CallRecord, FaultRule } from './sim-types';

const GRAPH_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/**
 * Give a Graph response Graph's envelope: `request-id` / `client-request-id` headers and, on errors,
 * `innerError { date, request-id, client-request-id }`.
 */
export function finishGraphResponse(r: SimResponse, requestId: string, clientRequestId: string): SimResponse {
  const headers: Record<string, string> = {
    'request-id': requestId,
    'client-request-id': clientRequestId,
    ...r.headers,
  };
  if (r.body !== undefined && r.text === undefined) {
    headers['content-type'] ??= GRAPH_CONTENT_TYPE;
  }
  let body = r.body;
  if (r.status >= 400 && isRecord(body) && isRecord(body.error) && body.error.innerError === undefined) {
    body = {
      error: {
        ...body.error,
        innerError: {
          date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
          'request-id': requestId,
          'client-request-id': clientRequestId,
        },
      },
    };
  }
  return { ...r, headers, body };
}

/** The response a matched fault rule gives, shaped like the service's own errors unless it names a body. */
export function faultResponse(rule: FaultRule, shape: 'graph' | 'arm' | 'plain'): SimResponse {
  const headers: Record<string, string> = {};
  if (rule.retryAfter !== undefined) {
    headers['Retry-After'] = String(rule.retryAfter);
  }
  // A drop or hang rule has no status: inside a `$batch` the item gets the gateway's time-out instead.
  const status = rule.status ?? 504;
  if (rule.body !== undefined) {
    return json(status, rule.body, headers);
  }
  const code =
    status === 429
      ? 'TooManyRequests'
      : status === 503
        ? 'ServiceUnavailable'
        : status === 504
          ? 'GatewayTimeout'
          : status === 404
            ? 'Request_ResourceNotFound'
            : status === 403
              ? 'Authorization_RequestDenied'
              : 'generalException';
  if (shape === 'plain') {
    return json(status, { error: { message: `Injected fault ${status}` } }, headers);
  }
  return json(status, { error: { code, message: `Injected fault (${status}).` } }, headers);
}

export interface BatchDeps {
  env: GraphEnv;
  faults: FaultRules;
  /** Log one inner request (after its status is decided). */
  record: (rec: Omit<CallRecord, 'seq' | 'at'>) => void;
}

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

function parseItems(body: unknown): BatchItem[] | SimResponse {
  if (!isRecord(body) || !Array.isArray(body.requests)) {
    return graphError(400, 'BadRequest', "Invalid batch payload format: a 'requests' array is required.");
  }
  for (const k of Object.keys(body)) {
    if (k !== 'requests') {
      return graphError(400, 'BadRequest', `Invalid batch payload format: unknown property '${k}'.`);
    }
  }
  if (body.requests.length > 20) {
    return graphError(400, 'BadRequest', 'Number of batch requests exceeds the limit of 20.');
  }
  if (body.requests.length === 0) {
    return graphError(400, 'BadRequest', 'Invalid batch payload format: the requests array is empty.');
  }
  const items: BatchItem[] = [];
  const seen = new Set<string>();
  for (const r of body.requests as unknown[]) {
    if (!isRecord(r) || typeof r.id !== 'string' || typeof r.method !== 'string' || typeof r.url !== 'string') {
      return graphError(400, 'BadRequest', 'Invalid batch payload format: every request needs string id, method and url.');
    }
    if (seen.has(r.id)) {
      return graphError(400, 'BadRequest', `Invalid batch payload format: duplicate request id '${r.id}'.`);
    }
    seen.add(r.id);
    const headers: Record<string, string> = {};
    if (isRecord(r.headers)) {
      for (const [k, v] of Object.entries(r.headers)) {
        headers[k.toLowerCase()] = String(v);
      }
    }
    const dependsOn = Array.isArray(r.dependsOn) ? r.dependsOn.map(String) : [];
    items.push({ id: r.id, method: r.method.toUpperCase(), url: r.url, headers, body: r.body, dependsOn });
  }
  for (const item of items) {
    for (const d of item.dependsOn) {
      if (!seen.has(d) || d === item.id) {
        return graphError(400, 'BadRequest', `Invalid batch payload format: request '${item.id}' depends on unknown request '${d}'.`);
      }
    }
  }
  return items;
}

/**
 * `POST /$batch`: at most 20 requests, each routed through the same handler as a direct call (same path
 * checks, permissions, throttles and fault rules), answered per item; a failed dependency gives 424.
 */
export function handleBatch(deps: BatchDeps, outer: GraphCall, batchRequestId: string): SimResponse {
  const parsed = parseItems(outer.body);
  if (!Array.isArray(parsed)) {
    return parsed;
  }
  const results = new Map<string, SimResponse>();
  const pending = [...parsed];
  while (pending.length > 0) {
    const i = pending.findIndex((it) => it.dependsOn.every((d) => results.has(d)));
    if (i < 0) {
      // Cyclic dependencies: nothing can run.
      for (const it of pending) {
        results.set(it.id, graphError(424, 'FailedDependency', 'The request could not run: cyclic dependsOn.'));
      }
      break;
    }
    const item = pending.splice(i, 1)[0] as BatchItem;
    const failedDep = item.dependsOn.find((d) => {
      const s = results.get(d)?.status ?? 0;
      return s < 200 || s >= 300;
    });
    if (failedDep !== undefined) {
      results.set(item.id, finishGraphResponse(graphError(424, 'FailedDependency', `Dependency '${failedDep}' failed.`), newGuid(), newGuid()));
      continue;
    }
    results.set(item.id, runItem(deps, outer, item, batchRequestId));
  }
  const responses = parsed.map((it) => {
    const r = results.get(it.id) as SimResponse;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) {
      // Graph writes item headers in their usual casing (Retry-After, Content-Type).
      const name = k.toLowerCase() === 'retry-after' ? 'Retry-After' : k.toLowerCase() === 'content-type' ? 'Content-Type' : k;
      headers[name] = v;
    }
    const out: Record<string, unknown> = { id: it.id, status: r.status, headers };
    if (r.body !== undefined && r.status !== 204) {
      out.body = r.body;
    }
    return out;
  });
  return json(200, { responses });
}

function runItem(deps: BatchDeps, outer: GraphCall, item: BatchItem, batchRequestId: string): SimResponse {
  const requestId = newGuid();
  const clientRequestId = item.headers['client-request-id'] ?? requestId;
  let response: SimResponse;
  const qIndex = item.url.indexOf('?');
  const rawPath = qIndex >= 0 ? item.url.slice(0, qIndex) : item.url;
  const rawQuery = qIndex >= 0 ? item.url.slice(qIndex + 1) : '';
  const path = rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
  const fullPath = `/${outer.version}${path}`;
  if (/^https?:/i.test(item.url)) {
    response = graphError(400, 'BadRequest', 'Invalid request URL: batch request URLs must be relative.');
  } else if (item.body !== undefined && !item.headers['content-type']) {
    response = graphError(400, 'BadRequest', "Content-Type header must be specified when the request has a body.");
  } else if (/^\/?\$batch/i.test(path)) {
    response = graphError(400, 'BadRequest', 'Nested batch requests are not supported.');
  } else {
    const rule = deps.faults.take(item.method, fullPath, 'graph');
    const random = rule ? undefined : randomFault(deps.env.knobs(), 'graph', false);
    if (rule) {
      response = faultResponse(rule, 'graph');
    } else if (random === 'throttle') {
      response = graphError(429, 'TooManyRequests', 'Too many requests.', { 'Retry-After': '1' });
    } else if (random === 'error') {
      response = graphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.');
    } else {
      response = handleGraphCall(deps.env, {
        version: outer.version,
        method: item.method,
        path,
        query: new URLSearchParams(rawQuery),
        headers: item.headers,
        body: item.body,
      });
    }
  }
  const finished = finishGraphResponse(response, requestId, clientRequestId);
  deps.record({
    method: item.method,
    path: fullPath,
    query: rawQuery,
    body: item.body,
    status: finished.status,
    service: 'graph',
    requestId,
    batchId: batchRequestId,
  });
  return finished;
}
