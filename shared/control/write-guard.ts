import type { Graph, GraphCall } from '../graph/graph-client';
import type { Sentinel } from '../sentinel/sentinel-client';
import type { TicketProvider } from '../tickets/ticket-provider';
import type { EmergencyStop } from './emergency-stop';

/** POSTs that only read (Graph documents them as actions, but they change nothing). */
const READ_ACTIONS = /\/(getByIds|checkMemberGroups|checkMemberObjects|getMemberGroups|getMemberObjects)$/i;

/** Whether a Graph call changes the tenant. A `$batch` is a write when any request in it is. */
export function isGraphWrite(call: Pick<GraphCall, 'method' | 'path' | 'body'>): boolean {
  if (call.method === 'GET') {
    return false;
  }
  if (call.method !== 'POST') {
    return true;
  }
  if (READ_ACTIONS.test(call.path)) {
    return false;
  }
  if (call.path === '/$batch') {
    const requests = (call.body as { requests?: { method?: string; url?: string }[] } | undefined)?.requests ?? [];
    return requests.some((r) => isGraphWrite({ method: (r.method ?? 'GET').toUpperCase() as GraphCall['method'], path: (r.url ?? '').split('?')[0] ?? '' }));
  }
  return true;
}

/**
 * The emergency stop at the adapters, under everything else: every Graph write, incident comment and ticket
 * write checks it first, so no path of the app (engine, sweeps, approvals, mail) can write while it is on.
 * The engine checks too, to mark its cases paused instead of failing them.
 */
export function guardGraph(graph: Graph, stop: Pick<EmergencyStop, 'assertRunning'>): Graph {
  return {
    async call(call) {
      if (isGraphWrite(call)) {
        await stop.assertRunning();
      }
      return graph.call(call);
    },
    next: (link) => graph.next(link),
  };
}

export function guardSentinel(sentinel: Sentinel, stop: Pick<EmergencyStop, 'assertRunning'>): Sentinel {
  return {
    ...sentinel,
    getIncident: (id) => sentinel.getIncident(id),
    listEntities: (id) => sentinel.listEntities(id),
    workspaceCustomerId: (ws) => sentinel.workspaceCustomerId(ws),
    async putComment(id, commentId, message) {
      await stop.assertRunning();
      return sentinel.putComment(id, commentId, message);
    },
  };
}

export function guardTickets(tickets: TicketProvider, stop: Pick<EmergencyStop, 'assertRunning'>): TicketProvider {
  return {
    name: tickets.name,
    get: (ref) => tickets.get(ref),
    async open(request, ...rest) {
      await stop.assertRunning();
      return tickets.open(request, ...rest);
    },
    async addNote(ticket, note, noteKey, ...rest) {
      await stop.assertRunning();
      return tickets.addNote(ticket, note, noteKey, ...rest);
    },
  };
}
