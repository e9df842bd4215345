import { GET_BY_IDS_MAX, getByIds } from './directory-objects';
import type { Graph } from './graph-client';
import type { DirectoryObject } from './identity-kind';

interface Waiter {
  ids: string[];
  resolve: (found: Map<string, DirectoryObject>) => void;
  reject: (err: unknown) => void;
}

/**
 * How long a burst's calls are spaced: while cases keep arriving together, ids wait up to this long for the next
 * call. A storm of hundreds of cases over a few seconds then costs a handful of calls (and a handful of chances to
 * be throttled) instead of one per case; a lone case never waits (see {@link DirectoryResolver}).
 */
export const BURST_WINDOW_MS = 400;

/**
 * Resolves object ids with `directoryObjects/getByIds`, coalesced across the cases this worker runs at the same
 * time, up to 1,000 ids a call, one call in flight at a time. When a call goes out on behalf of a single case, the
 * next one may go out as soon as it is needed: a lone incident adds no latency. When a call carries the ids of
 * several cases (they arrived while the previous call was in flight: a burst), the next call waits until
 * `windowMs` after it was sent, gathering every case that arrives meanwhile; the first call of a burst that carries
 * a single case again ends the pacing.
 */
export class DirectoryResolver {
  private queue: Waiter[] = [];
  private inFlight = false;
  private paced = false;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly graph: Graph,
    private readonly windowMs = BURST_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  resolve(ids: readonly string[]): Promise<Map<string, DirectoryObject>> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ids: [...new Set(ids.map((id) => id.toLowerCase()))], resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight || this.timer || this.queue.length === 0) {
      return;
    }
    const wait = this.paced ? this.lastSentAt + this.windowMs - this.now() : 0;
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const taken: Waiter[] = [];
    const ids = new Set<string>();
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (!next || (ids.size > 0 && ids.size + next.ids.filter((id) => !ids.has(id)).length > GET_BY_IDS_MAX)) {
        break;
      }
      this.queue.shift();
      taken.push(next);
      next.ids.forEach((id) => ids.add(id));
    }
    this.paced = taken.length > 1;
    this.lastSentAt = this.now();
    this.inFlight = true;
    const settle = (answer: (w: Waiter) => void): void => {
      // Free before answering, so a case answered now that asks again is not queued behind a finished call.
      this.inFlight = false;
      taken.forEach(answer);
      this.pump();
    };
    void getByIds(this.graph, [...ids]).then(
      ({ objects }) => {
        const byId = new Map(objects.map((o) => [o.id, o]));
        settle((w) => w.resolve(new Map(w.ids.flatMap((id) => (byId.has(id) ? [[id, byId.get(id) as DirectoryObject] as const] : [])))));
      },
      (err: unknown) => settle((w) => w.reject(err)),
    );
  }
}
