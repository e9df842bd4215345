import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SeedIncident } from '../../dev/simulator/sim-types';

const FIXTURE = readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8');
const INCIDENT_PREFIX =
  '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/soc-rg/providers/Microsoft.OperationalInsights/workspaces/soc-ws/providers/Microsoft.SecurityInsights/incidents/';

/**
 * A Sentinel incident naming `targets`, in both forms a test needs: the resource the simulator serves to
 * the responder's re-read (so verification at source passes), and the playbook's trigger body, shaped like
 * the demo incident fixture. `n` (1–999) keeps incidents of one test file apart.
 */
export function incidentNaming(n: number, targets: { id: string; name: string }[]): { seed: SeedIncident; trigger: Record<string, unknown> } {
  const name = `8f1c2d3e-0000-4000-8000-${String(100_000_000 + n).padStart(12, '0')}`;
  const armId = `${INCIDENT_PREFIX}${name}`;
  const entities = targets.map((t, i) => ({
    id: `${armId.replace(/incidents\/.*$/, 'Entities/')}5e0d${String(n).padStart(4, '0')}-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
    name: `5e0d${String(n).padStart(4, '0')}-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
    type: 'Microsoft.SecurityInsights/Entities',
    kind: 'Account',
    properties: { friendlyName: t.name, accountName: t.name, aadUserId: t.id },
  }));
  const title = `Suspicious activity by ${targets.map((t) => t.name).join(', ')}`;
  const properties = { title, severity: 'High', status: 'Active', incidentNumber: 5000 + n, providerName: 'Azure Sentinel' };
  const trigger = JSON.parse(FIXTURE) as { eventUniqueId: string; object: Record<string, unknown> };
  trigger.eventUniqueId = `6a1b0c9e-0000-4000-8000-${String(n).padStart(12, '0')}`;
  trigger.object = { ...trigger.object, id: armId, name, properties: { ...properties, relatedEntities: entities } };
  return { seed: { id: armId, name, properties, entities }, trigger };
}
