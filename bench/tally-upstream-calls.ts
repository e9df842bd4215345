import type { CallRecord } from '../dev/simulator/start-simulator';

export interface CallKind {
  /** HTTP round trips, retries and failed attempts included. */
  calls: number;
  /** Of which answered 2xx. */
  ok: number;
  /** Ids carried by the successful calls (getByIds, confirmCompromised). */
  ids?: number;
}

export interface UpstreamTally {
  graph: {
    getByIds: CallKind;
    disable: CallKind;
    confirmCompromised: CallKind;
    batch: CallKind;
    other: CallKind;
  };
  arm: { getIncident: CallKind; listEntities: CallKind; putComment: CallKind; other: CallKind };
  tickets: CallKind;
  /** Answers the fault knobs and throttles produced, across Graph and ARM. */
  faults: { throttled429: number; unavailable503: number; dropped: number; total: number };
}

const kind = (): CallKind => ({ calls: 0, ok: 0 });

/** Counts the simulator's call log by kind of call: what the responder asked of Graph, ARM and ServiceNow. */
export function tallyUpstreamCalls(calls: readonly CallRecord[]): UpstreamTally {
  const t: UpstreamTally = {
    graph: { getByIds: { ...kind(), ids: 0 }, disable: kind(), confirmCompromised: { ...kind(), ids: 0 }, batch: kind(), other: kind() },
    arm: { getIncident: kind(), listEntities: kind(), putComment: kind(), other: kind() },
    tickets: kind(),
    faults: { throttled429: 0, unavailable503: 0, dropped: 0, total: 0 },
  };
  for (const c of calls) {
    const ok = c.status >= 200 && c.status < 300;
    if (c.service === 'graph' || c.service === 'arm') {
      t.faults.total++;
      if (c.status === 429) {
        t.faults.throttled429++;
      } else if (c.status === 503) {
        t.faults.unavailable503++;
      } else if (c.status === 0) {
        t.faults.dropped++;
      }
    }
    let k: CallKind;
    if (c.service === 'graph') {
      if (c.batchId !== undefined) {
        continue; // an inner request of a $batch: the round trip is the batch
      }
      if (c.method === 'POST' && /\/directoryObjects\/getByIds$/.test(c.path)) {
        k = t.graph.getByIds;
        k.ids = (k.ids ?? 0) + (ok ? idCount(c.body, 'ids') : 0);
      } else if (c.method === 'PATCH' && /^\/(v1\.0|beta)\/servicePrincipals\//.test(c.path)) {
        k = t.graph.disable;
      } else if (c.method === 'POST' && /confirmCompromised$/.test(c.path)) {
        k = t.graph.confirmCompromised;
        k.ids = (k.ids ?? 0) + (ok ? idCount(c.body, 'agentIds') + idCount(c.body, 'servicePrincipalIds') + idCount(c.body, 'userIds') : 0);
      } else if (/\/\$batch$/.test(c.path)) {
        k = t.graph.batch;
      } else {
        k = t.graph.other;
      }
    } else if (c.service === 'arm') {
      if (c.method === 'GET' && /\/incidents\/[^/]+$/.test(c.path)) {
        k = t.arm.getIncident;
      } else if (c.method === 'POST' && /\/entities$/.test(c.path)) {
        k = t.arm.listEntities;
      } else if (c.method === 'PUT' && /\/comments\/[^/]+$/.test(c.path)) {
        k = t.arm.putComment;
      } else {
        k = t.arm.other;
      }
    } else if (c.service === 'servicenow' || c.service === 'jira' || c.service === 'webhook') {
      k = t.tickets;
    } else {
      continue;
    }
    k.calls++;
    if (ok) {
      k.ok++;
    }
  }
  return t;
}

function idCount(body: unknown, field: string): number {
  if (typeof body !== 'object' || body === null) {
    return 0;
  }
  const ids = (body as Record<string, unknown>)[field];
  return Array.isArray(ids) ? ids.length : 0;
}
