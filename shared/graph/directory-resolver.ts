import { GET_BY_IDS_MAX, getByIds } from './directory-objects';
import type { Graph } from './graph-client';
import type { DirectoryObject } from './identity-kind';

interface Waiter {
  ids: string[];
  resolve: (found: Map<string, DirectoryObject>) => void;
  reject: (err: unknown) => void;
}

/**
 * Resolves object ids with `directoryObjects/getByIds`, coalesced across the cases this worker runs at the same
 * time: the first request goes out at once (no added latency for one case), and ids asked for while a call is in
 * flight ride the next call together, up to 1,000 ids a call. In a storm of hundreds of cases that is a handful of
 * calls instead of one per case.
 */
export class DirectoryResolver {
  private queue: Waiter[] = [];
  private inFlight = 0;

  constructor(
    private readonly graph: Graph,
    /** Calls sent at the same time; the queue waits while this many are in flight. */
    private readonly maxConcurrent = 2,
  ) {}

  resolve(ids: readonly string[]): Promise<Map<string, DirectoryObject>> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ids: [...new Set(ids.map((id) => id.toLowerCase()))], resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxConcurrent && this.queue.length > 0) {
      const taken: Waiter[] = [];
      const ids = new Set<string>();
      while (this.queue.length > 0) {
        const next = this.queue[0];
        if (!next || (ids.size > 0 && new Set([...ids, ...next.ids]).size > GET_BY_IDS_MAX)) {
          break;
        }
        this.queue.shift();
        taken.push(next);
        next.ids.forEach((id) => ids.add(id));
      }
      this.inFlight++;
      void getByIds(this.graph, [...ids])
        .then(
          ({ objects }) => {
            const byId = new Map(objects.map((o) => [o.id, o]));
            for (const w of taken) {
              w.resolve(new Map(w.ids.flatMap((id) => (byId.has(id) ? [[id, byId.get(id) as DirectoryObject] as const] : []))));
            }
          },
          (err: unknown) => taken.forEach((w) => w.reject(err)),
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
