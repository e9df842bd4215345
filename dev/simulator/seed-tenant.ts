import { z } from 'zod';
import demoTenant from './demo-tenant.json';
import { DEMO } from './demo-ids';
import type { DirObject, SeedChoice, TenantSeed } from './sim-types';

const dirObjectSchema = z.looseObject({ id: z.string().min(1), '@odata.type': z.string().startsWith('#') });
const incidentSchema = z.looseObject({
  id: z.string().startsWith('/subscriptions/'),
  properties: z.record(z.string(), z.unknown()),
  entities: z.array(z.record(z.string(), z.unknown())).optional(),
  alerts: z.array(z.record(z.string(), z.unknown())).optional(),
});

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
const workspaceSchema = z.object({ customerId: guid, subscriptionId: guid, resourceGroup: z.string().min(1), workspaceName: z.string().min(1) });
const securityAlertSchema = z.looseObject({ TenantId: guid, SystemAlertId: z.string().min(1), TimeGenerated: z.string().min(1) });

/** Schema of a partial seed, as accepted by `POST /_sim/objects`. */
export const partialSeedSchema = z.object({
  servicePrincipals: z.array(dirObjectSchema).optional(),
  users: z.array(dirObjectSchema).optional(),
  groups: z.array(dirObjectSchema).optional(),
  applications: z.array(dirObjectSchema).optional(),
  incidents: z.array(incidentSchema).optional(),
  workspaces: z.array(workspaceSchema).optional(),
  securityAlerts: z.array(securityAlertSchema).optional(),
});

/** Schema of a whole seed. */
export const tenantSeedSchema = partialSeedSchema.extend({
  tenantId: z.string().min(1),
  responder: z.object({ objectId: z.string(), appId: z.string(), displayName: z.string() }),
});

/**
 * `"$now+5d"` / `"$now-3d"` in seed strings become a date relative to load time (YYYY-MM-DD), so the
 * "expires in a few days" agent stays a few days ahead whenever the demo tenant is loaded.
 */
function resolveRelativeDates(value: unknown, now: number): unknown {
  if (typeof value === 'string') {
    const m = /^\$now([+-]\d+)d$/.exec(value);
    return m ? new Date(now + Number(m[1]) * 86_400_000).toISOString().slice(0, 10) : value;
  }
  if (Array.isArray(value)) {
    return value.map((v) => resolveRelativeDates(v, now));
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = resolveRelativeDates(v, now);
    }
    return out;
  }
  return value;
}

/** Parse any seed-shaped value (throws a zod error naming the bad field). */
export function parseSeed(value: unknown): TenantSeed {
  const s = tenantSeedSchema.parse(value);
  return resolveRelativeDates(
    {
      tenantId: s.tenantId,
      responder: s.responder,
      servicePrincipals: s.servicePrincipals ?? [],
      users: s.users ?? [],
      groups: s.groups ?? [],
      applications: s.applications ?? [],
      incidents: s.incidents ?? [],
      workspaces: s.workspaces ?? [],
      securityAlerts: s.securityAlerts ?? [],
    },
    Date.now(),
  ) as TenantSeed;
}

/** The seed for a choice: the demo tenant, an empty tenant (only the responder), or the given seed. */
export function seedTenant(choice: SeedChoice = 'demo'): TenantSeed {
  if (choice === 'demo') {
    return parseSeed(demoTenant);
  }
  if (choice === 'empty') {
    const responderSp: DirObject = {
      id: DEMO.responder.objectId,
      '@odata.type': '#microsoft.graph.servicePrincipal',
      appId: DEMO.responder.appId,
      displayName: DEMO.responder.displayName,
      accountEnabled: true,
      servicePrincipalType: 'ManagedIdentity',
      tags: [],
    };
    return {
      tenantId: DEMO.tenantId,
      responder: { ...DEMO.responder },
      servicePrincipals: [responderSp],
      users: [],
      groups: [],
      applications: [],
      incidents: [],
    };
  }
  return parseSeed(choice);
}
