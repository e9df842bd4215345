import type { StorageRequest } from '../dev/storage-proxy';

/** A request the path may have waited on: a storage round trip, or a Graph/ARM call. */
export interface PathLink {
  kind: 'storage' | 'upstream';
  label: string;
  start: number;
  end: number;
}

/**
 * The critical path of a window: the chain of requests, each sent after the previous one answered, that covers the
 * most time (longest path over the intervals, by dynamic programming). Requests sent side by side lie on it once,
 * and a storage round trip hidden behind a longer Graph read is not on it at all: what is left is what the window
 * waited for, in order. Its storage links are the sequential storage round trips of the path.
 */
export function criticalPath(links: readonly PathLink[], from: number, to: number): PathLink[] {
  const inWindow = links.filter((l) => l.start >= from && l.end <= to).sort((a, b) => a.end - b.end || a.start - b.start);
  const best: number[] = [];
  const previous: number[] = [];
  inWindow.forEach((link, i) => {
    let bestBefore = 0;
    let from = -1;
    for (let j = 0; j < i; j++) {
      const before = inWindow[j] as PathLink;
      // Sent after the earlier one answered (same millisecond counts: the proxy's clock has millisecond grain).
      if (before.end <= link.start && (best[j] as number) > bestBefore) {
        bestBefore = best[j] as number;
        from = j;
      }
    }
    // Each link counts at least 1 ms, so a chain of instant requests still ranks by its length.
    best.push(bestBefore + Math.max(1, link.end - link.start));
    previous.push(from);
  });
  let at = best.reduce((top, value, i) => (value > (best[top] ?? -1) ? i : top), -1);
  const path: PathLink[] = [];
  while (at >= 0) {
    path.unshift(inWindow[at] as PathLink);
    at = previous[at] as number;
  }
  return path;
}

/** The storage proxy's log as path links. */
export function storageLinks(requests: readonly StorageRequest[]): PathLink[] {
  return requests.map((q) => ({ kind: 'storage', label: `${q.service} ${q.method} ${q.shape}`, start: q.startedAt, end: q.endedAt }));
}
