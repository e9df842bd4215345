import type { Graph, GraphCall } from './graph-client';

interface Page<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

/**
 * Reads a Graph collection page by page, following `@odata.nextLink` until the last page, so a sweep over
 * thousands of objects holds one page at a time.
 * @example for await (const page of listPages<{ id: string }>(graph, { path: '/servicePrincipals/microsoft.graph.agentIdentity', query: { $select: 'id' } })) { … }
 */
export async function* listPages<T>(graph: Graph, call: Omit<GraphCall, 'method' | 'body'>): AsyncGenerator<{ items: T[]; requestId: string | undefined }> {
  let result = await graph.call<Page<T>>({ ...call, method: 'GET' });
  for (;;) {
    yield { items: result.body?.value ?? [], requestId: result.requestId };
    const next = result.body?.['@odata.nextLink'];
    if (!next) {
      return;
    }
    result = await graph.next<Page<T>>(next);
  }
}

/** Every item of a Graph collection (all pages); `maxItems` stops early for callers that only need a bound. */
export async function listAll<T>(graph: Graph, call: Omit<GraphCall, 'method' | 'body'>, opts: { maxItems?: number } = {}): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let pages = 0;
  for await (const page of listPages<T>(graph, call)) {
    pages++;
    items.push(...page.items);
    if (opts.maxItems !== undefined && items.length >= opts.maxItems) {
      return { items: items.slice(0, opts.maxItems), pages };
    }
  }
  return { items, pages };
}
