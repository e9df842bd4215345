import { z } from 'zod';
import { DEMO } from './demo-ids';
import type { DirObject } from './sim-types';
import type { TenantState } from './tenant-state';
import { seededRandom } from '../seeded-random';

export const generateAgentsSchema = z.object({
  agents: z.number().int().min(1).max(1_000_000),
  expiredFraction: z.number().min(0).max(1).optional(),
  expiringFraction: z.number().min(0).max(1).optional(),
  orphanFraction: z.number().min(0).max(1).optional(),
  /** appId of the blueprint the agents belong to; the demo blueprint by default. */
  blueprintId: z.string().optional(),
});
export type GenerateAgentsRequest = z.infer<typeof generateAgentsSchema>;

type Kind = 'normal' | 'expired' | 'expiring' | 'orphan';

/**
 * Add `agents` agent identities. Exact counts per kind (expired: past `agent-expires:` tag; expiring:
 * `AgentLifecycle.ExpiresOn` CSA 1..10 days ahead; orphan: no sponsor, no owner), shuffled deterministically.
 * Ids are `a9e6xxxx-…-<counter>` so they never collide with the demo tenant.
 */
export function generateAgents(state: TenantState, req: GenerateAgentsRequest): { created: number; ids: string[] } {
  const n = req.agents;
  const kinds: Kind[] = new Array<Kind>(n).fill('normal');
  const counts: [Kind, number][] = [
    ['expired', Math.round(n * (req.expiredFraction ?? 0))],
    ['expiring', Math.round(n * (req.expiringFraction ?? 0))],
    ['orphan', Math.round(n * (req.orphanFraction ?? 0))],
  ];
  let at = 0;
  for (const [kind, count] of counts) {
    for (let i = 0; i < count && at < n; i++) {
      kinds[at++] = kind;
    }
  }
  const rand = seededRandom(state.generatedCount + 1); // the same tenant on every run
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = kinds[i] as Kind;
    kinds[i] = kinds[j] as Kind;
    kinds[j] = t;
  }
  const blueprintId = req.blueprintId ?? DEMO.blueprintAppId;
  const now = Date.now();
  const sponsor = DEMO.human;
  const ids: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const counter = ++state.generatedCount;
    const hex = counter.toString(16).padStart(12, '0');
    const id = `a9e60000-0000-4000-8000-${hex}`;
    const kind = kinds[i] as Kind;
    const obj: DirObject = {
      id,
      '@odata.type': '#microsoft.graph.agentIdentity',
      appId: `a9e6a000-0000-4000-8000-${hex}`,
      displayName: `Generated Agent ${counter}`,
      accountEnabled: true,
      servicePrincipalType: 'ServiceIdentity',
      appOwnerOrganizationId: state.tenantId,
      agentIdentityBlueprintId: blueprintId,
      createdByAppId: blueprintId,
      tags: kind === 'expired' ? [`agent-expires:${new Date(now - (1 + (counter % 90)) * 86_400_000).toISOString().slice(0, 10)}`] : [],
      owners: kind === 'orphan' ? [] : [sponsor],
      sponsors: kind === 'orphan' ? [] : [sponsor],
    };
    if (kind === 'expiring') {
      obj.customSecurityAttributes = {
        AgentLifecycle: {
          '@odata.type': '#Microsoft.DirectoryServices.CustomSecurityAttributeValue',
          ExpiresOn: new Date(now + (1 + (counter % 10)) * 86_400_000).toISOString().slice(0, 10),
        },
      };
    }
    state.append(obj);
    ids[i] = id;
  }
  return { created: n, ids };
}
