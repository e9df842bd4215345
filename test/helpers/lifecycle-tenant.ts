import type { DirObject } from '../../dev/simulator/sim-types';
import { runLifecycleSweep, type SweepOptions, type SweepSummary } from '../../shared/lifecycle/run-lifecycle-sweep';
import type { InProcessApp } from './in-process-app';

const DAY = 86_400_000;

export const SILENT = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** `YYYY-MM-DD` (UTC) of an epoch-ms time. */
export const ymd = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Adds `agents` generated agent identities to the simulator's tenant (`POST /_sim/generate`). */
export async function generateAgents(app: InProcessApp, body: { agents: number; expiredFraction?: number; expiringFraction?: number; orphanFraction?: number }): Promise<string[]> {
  const res = await fetch(`${app.sim.url}/_sim/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) {
    throw new Error(`generate failed: ${res.status} ${await res.text()}`);
  }
  return ((await res.json()) as { ids: string[] }).ids;
}

/**
 * What the lifecycle rules say about the simulated tenant, worked out from the simulator's own objects (the
 * test oracle): agents are agent identities, blueprint principals and classic service principals tagged
 * `agent`; dates come from the `AgentLifecycle.ExpiresOn` attribute or the `agent-expires:` tag; default
 * windows (warn 14 days ahead, grace 30 days).
 */
export function lifecycleExpectations(app: InProcessApp): { all: string[]; expiring: string[]; expired: string[]; pastGrace: string[]; orphans: string[] } {
  const today = Date.parse(`${ymd(app.clock.now)}T00:00:00Z`);
  const isClassic = (o: DirObject) => o['@odata.type'] === '#microsoft.graph.servicePrincipal';
  const tags = (o: DirObject) => (o['tags'] as string[] | undefined) ?? [];
  const agents = app.sim.state.collections.servicePrincipals.filter((o) => !o.deleted && (!isClassic(o) || tags(o).includes('agent')));
  const endOf = (o: DirObject): number | undefined => {
    const csa = (o['customSecurityAttributes'] as Record<string, Record<string, unknown>> | undefined)?.['AgentLifecycle']?.['ExpiresOn'];
    const tag = tags(o).find((t) => t.startsWith('agent-expires:'))?.slice('agent-expires:'.length);
    const date = typeof csa === 'string' ? csa : tag;
    return date ? Date.parse(`${date}T00:00:00Z`) : undefined;
  };
  const ids = (keep: (o: DirObject, end: number | undefined) => boolean) => agents.filter((o) => keep(o, endOf(o))).map((o) => o.id);
  return {
    all: agents.map((o) => o.id),
    expiring: ids((_o, end) => end !== undefined && end > today && end <= today + 14 * DAY),
    expired: ids((_o, end) => end !== undefined && end <= today),
    pastGrace: ids((_o, end) => end !== undefined && end <= today - 30 * DAY),
    orphans: ids((o) => (o.owners ?? []).length === 0 && (isClassic(o) || (o.sponsors ?? []).length === 0)),
  };
}

/** One run of the sweep use-case on the app's dependencies. */
export function sweep(app: InProcessApp, opts: Partial<SweepOptions> = {}): Promise<SweepSummary> {
  return runLifecycleSweep(app.deps, { invocationId: `run-${Math.random().toString(36).slice(2)}`, log: SILENT, ...opts });
}

/** ServiceNow tickets' correlation ids, i.e. the responders' ticket keys. */
export function ticketKeys(app: InProcessApp): string[] {
  return app.sim.state.tickets.servicenow.map((t) => String(t.fields['correlation_id']));
}

/** Mails warning ahead of an end of lifecycle. */
export function warnings(app: InProcessApp): { to: string[]; subject: string; from: string }[] {
  return app.sim.state.mail.filter((m) => m.subject.includes('reaches its end of lifecycle'));
}

/** Graph writes the simulator saw (mail included), batched or not. */
export function graphWrites(app: InProcessApp): string[] {
  return app.sim.calls.filter((c) => c.service === 'graph' && (c.method === 'PATCH' || c.method === 'DELETE' || c.path.endsWith('/sendMail'))).map((c) => `${c.method} ${c.path}`);
}
