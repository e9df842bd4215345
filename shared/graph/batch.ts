import type { Graph } from './graph-client';
import { UpstreamError } from '../errors';
import { CALL_BUDGET_MS } from '../net/call-timeout';
import { defaultRetryPolicy, isTransientStatus, parseRetryAfter, withRetry } from '../net/retry-policy';

/** Graph's JSON batching takes at most 20 requests a call. */
export const BATCH_MAX = 20;

export interface BatchItem {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface BatchItemResult {
  id: string;
  status: number;
  body: unknown;
}

interface BatchResponse {
  responses: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[];
}

/**
 * Sends `items` through `$batch` in chunks of 20. Items answered with a transient status (408, 429, 5xx) are sent
 * again (honouring the largest `Retry-After` among them) within one call budget per chunk; other statuses are
 * returned as they are, per item.
 */
export async function batch(graph: Graph, items: readonly BatchItem[]): Promise<Map<string, BatchItemResult>> {
  const results = new Map<string, BatchItemResult>();
  for (let i = 0; i < items.length; i += BATCH_MAX) {
    let pending = items.slice(i, i + BATCH_MAX);
    const deadline = Date.now() + CALL_BUDGET_MS;
    await withRetry(async () => {
      const response = await graph.call<BatchResponse>({
        method: 'POST',
        path: '/$batch',
        deadline,
        body: { requests: pending.map((item) => ({ ...item, headers: item.body === undefined ? item.headers : { 'content-type': 'application/json', ...item.headers } })) },
      });
      const retry: BatchItem[] = [];
      let retryAfterMs: number | undefined;
      let retryStatus: number | undefined;
      for (const r of response.body.responses ?? []) {
        const item = pending.find((p) => p.id === r.id);
        if (item && isTransientStatus(r.status)) {
          retry.push(item);
          retryStatus ??= r.status;
          const after = parseRetryAfter(r.headers?.['Retry-After'] ?? r.headers?.['retry-after']);
          retryAfterMs = Math.max(retryAfterMs ?? 0, after ?? 0);
          continue;
        }
        results.set(r.id, { id: r.id, status: r.status, body: r.body });
      }
      pending = retry;
      if (retry.length > 0) {
        throw new UpstreamError({
          service: 'Graph',
          httpStatus: retryStatus ?? 429,
          transient: true,
          retryAfterMs: retryAfterMs || undefined,
          message: `${retry.length} batch item(s) throttled or unavailable (${retryStatus ?? 429})`,
        });
      }
    }, defaultRetryPolicy, { deadline });
  }
  return results;
}
