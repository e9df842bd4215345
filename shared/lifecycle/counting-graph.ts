import type { Graph } from '../graph/graph-client';
import { isInventoryPath } from '../graph/agent-inventory';

/** Graph calls a sweep made, by purpose: inventory pages, `$batch` calls, everything else. */
export interface GraphTally {
  pages: number;
  batches: number;
  other: number;
}

export const emptyTally = (): GraphTally => ({ pages: 0, batches: 0, other: 0 });

/**
 * Wraps a Graph client so that each call is counted for the sweep summary. Counts logical calls; the
 * client's retries of a throttled call are not counted again.
 */
export function countingGraph(graph: Graph, tally: GraphTally): Graph {
  return {
    call(call) {
      if (call.method === 'POST' && call.path === '/$batch') {
        tally.batches++;
      } else if (call.method === 'GET' && isInventoryPath(call.path)) {
        tally.pages++;
      } else {
        tally.other++;
      }
      return graph.call(call);
    },
    next(nextLink) {
      tally.pages++;
      return graph.next(nextLink);
    },
  };
}
