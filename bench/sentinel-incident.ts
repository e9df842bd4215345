import { DEMO } from '../dev/simulator/demo-ids';
import type { SeedIncident } from '../dev/simulator/sim-types';

export interface BenchIncident {
  armId: string;
  /** What Sentinel's "incident created" trigger posts to `POST /api/alerts`. */
  triggerBody: Record<string, unknown>;
  /** The same incident as the simulator's Sentinel serves it, so verification at the source passes. */
  seed: SeedIncident;
}

const WORKSPACE_ID = `/subscriptions/${DEMO.workspace.subscriptionId}/resourceGroups/${DEMO.workspace.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${DEMO.workspace.workspaceName}`;

/** A GUID that encodes a number, so incident and entity names are unique and readable in logs. */
function guidFor(prefix: string, n: number): string {
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/**
 * An active High-severity incident of the demo workspace naming `agentIds` as Account entities (the shape the
 * demo fixture has), numbered `n`.
 */
export function sentinelIncident(n: number, agentIds: readonly string[], title = `Bench incident ${n}`): BenchIncident {
  const name = guidFor('be4c0000', n);
  const armId = `${WORKSPACE_ID}/providers/Microsoft.SecurityInsights/incidents/${name}`;
  const entities = agentIds.map((id, i) => ({
    id: `${WORKSPACE_ID}/providers/Microsoft.SecurityInsights/Entities/${guidFor('5e0d0000', n * 16 + i)}`,
    name: guidFor('5e0d0000', n * 16 + i),
    type: 'Microsoft.SecurityInsights/Entities',
    kind: 'Account',
    properties: { friendlyName: `Agent ${id}`, aadUserId: id },
  }));
  const properties = { title, severity: 'High', status: 'Active', incidentNumber: 100_000 + n, providerName: 'Azure Sentinel' };
  return {
    armId,
    triggerBody: {
      eventUniqueId: guidFor('e0e00000', n),
      objectSchemaType: 'Incident',
      objectEventType: 'Create',
      workspaceInfo: {
        SubscriptionId: DEMO.workspace.subscriptionId,
        ResourceGroupName: DEMO.workspace.resourceGroup,
        WorkspaceName: DEMO.workspace.workspaceName,
      },
      object: { id: armId, name, type: 'Microsoft.SecurityInsights/Incidents', properties: { ...properties, relatedEntities: entities } },
    },
    seed: { id: armId, name, properties, entities },
  };
}
