import { DEMO, type CallRecord, type Simulator } from '../../dev/simulator/start-simulator';

/** Who an incident names: an Entra object id, a user principal name, or an application (client) id. */
export type NamedEntity = { id: string; name?: string } | { upn: string } | { appId: string; name?: string };

export interface SeededIncident {
  armId: string;
  name: string;
  /** ARM-shaped entities, as Sentinel lists them and as the incident trigger carries them. */
  entities: Record<string, unknown>[];
  /** The body the Sentinel incident trigger (Logic App) posts to `/api/alerts`. */
  trigger(eventType?: 'Create' | 'Update'): Record<string, unknown>;
}

const WS = DEMO.workspace;
const WORKSPACE_ID = `/subscriptions/${WS.subscriptionId}/resourceGroups/${WS.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${WS.workspaceName}`;

function guid(prefix: string, n: number): string {
  return `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

function armEntity(e: NamedEntity, incident: number, i: number): Record<string, unknown> {
  const name = guid(`5e0d${String(incident % 10_000).padStart(4, '0')}`, i + 1);
  const base = { id: `${WORKSPACE_ID}/providers/Microsoft.SecurityInsights/Entities/${name}`, name, type: 'Microsoft.SecurityInsights/Entities' };
  if ('upn' in e) {
    const [account = '', suffix = ''] = e.upn.split('@');
    return { ...base, kind: 'Account', properties: { friendlyName: account, accountName: account, upnSuffix: suffix } };
  }
  if ('appId' in e) {
    return { ...base, kind: 'CloudApplication', properties: { friendlyName: e.name ?? e.appId, appId: e.appId, appDisplayName: e.name ?? e.appId } };
  }
  return { ...base, kind: 'Account', properties: { friendlyName: e.name ?? e.id, accountName: e.name ?? e.id, aadUserId: e.id } };
}

/**
 * Puts an incident naming `named` into the simulator's Sentinel (so the responder's re-read at source agrees)
 * and returns the incident trigger body a playbook would post for it. `n` keeps incidents of a file apart;
 * seeding the same `n` again replaces the incident (an update that names more entities).
 */
export function seedIncident(sim: Simulator, n: number, named: NamedEntity[], opts: { status?: string; title?: string; severity?: 'Informational' | 'Low' | 'Medium' | 'High' } = {}): SeededIncident {
  const name = guid('8f1c2d3e', 500_000 + n);
  const armId = `${WORKSPACE_ID}/providers/Microsoft.SecurityInsights/incidents/${name}`;
  const entities = named.map((e, i) => armEntity(e, n, i));
  const properties = {
    title: opts.title ?? `Suspicious activity by ${named.length} identit${named.length === 1 ? 'y' : 'ies'} (test incident ${n})`,
    severity: opts.severity ?? 'High',
    status: opts.status ?? 'Active',
    incidentNumber: 7_000 + n,
    providerName: 'Azure Sentinel',
  };
  sim.state.putIncident({ id: armId, name, properties, entities });
  return {
    armId,
    name,
    entities,
    trigger: (eventType = 'Create') => ({
      eventUniqueId: guid('6a1b0c9e', n),
      objectSchemaType: 'Incident',
      objectEventType: eventType,
      workspaceInfo: { SubscriptionId: WS.subscriptionId, ResourceGroupName: WS.resourceGroup, WorkspaceName: WS.workspaceName },
      object: { id: armId, name, type: 'Microsoft.SecurityInsights/Incidents', properties: { ...properties, relatedEntities: entities } },
    }),
  };
}

/** `METHOD path` of the Graph calls after sequence number `since` that change something (getByIds is a read). */
export function graphWrites(sim: Simulator, since = 0): string[] {
  return sim.calls
    .filter((c) => c.seq > since && c.service === 'graph' && c.method !== 'GET' && !c.path.endsWith('/getByIds') && !c.path.endsWith('/$batch'))
    .map((c) => `${c.method} ${c.path}`);
}

/** Graph calls after `since` whose path matches. */
export function graphCalls(sim: Simulator, match: (c: CallRecord) => boolean, since = 0): CallRecord[] {
  return sim.calls.filter((c) => c.seq > since && c.service === 'graph' && match(c));
}

/** The last sequence number of the simulator's call log (calls after it belong to what comes next). */
export function lastSeq(sim: Simulator): number {
  return sim.calls.at(-1)?.seq ?? 0;
}
