import { z } from 'zod';
import { generateAgents, generateAgentsSchema } from './generate-agents';
import { partialSeedSchema } from './seed-tenant';
import type { SimRequest, SimResponse } from './sim-http';
import { isRecord, json } from './sim-http';
import type { CallRecord, FaultRule, Knobs, SeedChoice } from './sim-types';
import type { TenantState } from './tenant-state';
import { collectionOf } from './tenant-state';

/** What the admin routes drive: the same operations the in-process `Simulator` object exposes. */
export interface AdminTarget {
  url: string;
  identityEndpoint: string;
  identityHeader: string;
  state: TenantState;
  calls: CallRecord[];
  knobs(): Knobs;
  setKnobs(k: Partial<Knobs>): void;
  addFault(f: FaultRule): void;
  clearFaults(): void;
  listFaults(): FaultRule[];
  clearCalls(): void;
  reset(seed?: SeedChoice): void;
}

export const knobsPatchSchema = z
  .object({
    latencyMs: z.number().min(0).max(60_000),
    errorRate: z.number().min(0).max(1),
    throttleRate: z.number().min(0).max(1),
    dropRate: z.number().min(0).max(1),
    identityProtectionThrottle: z.boolean(),
    directoryWriteThrottle: z.boolean(),
    grantedPermissions: z.union([z.literal('all'), z.array(z.string())]),
    logAnalyticsReader: z.boolean(),
    webhookSecret: z.string().min(1),
    servicenow: z.object({ username: z.string(), password: z.string() }),
    jira: z.object({ email: z.string(), apiToken: z.string() }),
    jiraSearchLagMs: z.number().int().min(0).max(3_600_000),
  })
  .strict()
  .partial();

const resetSchema = z.object({ seed: z.union([z.literal('demo'), z.literal('empty'), z.record(z.string(), z.unknown())]).optional() });

function badRequest(err: unknown): SimResponse {
  if (err instanceof z.ZodError) {
    return json(400, {
      error: 'invalid body',
      issues: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return json(400, { error: err instanceof Error ? err.message : String(err) });
}

const OBJECT_PATH = /^\/_sim\/objects\/([^/]+)$/;

/** `/_sim/*`: no auth, never logged, for tests and benchmarks in other processes. */
export function handleAdmin(sim: AdminTarget, req: SimRequest): SimResponse {
  const method = req.method.toUpperCase();
  const path = req.path.replace(/\/+$/, '');
  try {
    const route = `${method} ${path}`;
    switch (route) {
      case 'GET /_sim/info':
        return json(200, {
          url: sim.url,
          identityEndpoint: sim.identityEndpoint,
          identityHeader: sim.identityHeader,
          tenantId: sim.state.tenantId,
          responder: sim.state.responder,
        });
      case 'GET /_sim/calls': {
        const since = Number(req.query.get('since') ?? '0');
        return json(200, { value: sim.calls.filter((c) => c.seq > since) });
      }
      case 'DELETE /_sim/calls':
        sim.clearCalls();
        return { status: 204 };
      case 'GET /_sim/knobs':
        return json(200, sim.knobs());
      case 'PATCH /_sim/knobs':
        sim.setKnobs(knobsPatchSchema.parse(req.body ?? {}));
        return json(200, sim.knobs());
      case 'GET /_sim/faults':
        return json(200, { value: sim.listFaults() });
      case 'POST /_sim/faults':
        sim.addFault(req.body as FaultRule);
        return json(201, { value: sim.listFaults() });
      case 'DELETE /_sim/faults':
        sim.clearFaults();
        return { status: 204 };
      case 'POST /_sim/reset': {
        const body = resetSchema.parse(req.body ?? {});
        sim.reset(body.seed as SeedChoice | undefined);
        return json(200, sim.state.summary());
      }
      case 'POST /_sim/objects': {
        const seed = partialSeedSchema.parse(req.body);
        sim.state.addSeed(seed);
        return json(201, sim.state.summary());
      }
      case 'POST /_sim/generate': {
        const body = generateAgentsSchema.parse(req.body);
        return json(201, generateAgents(sim.state, body));
      }
      case 'GET /_sim/tickets':
        return json(200, {
          servicenow: sim.state.tickets.servicenow.map((r) => ({ ...r.fields, table: r.table, journal: r.journal })),
          jira: sim.state.tickets.jira,
          webhook: sim.state.tickets.webhook,
        });
      case 'GET /_sim/alerts':
        return json(200, { workspaces: [...sim.state.workspaces.values()], value: sim.state.securityAlerts });
      case 'GET /_sim/comments':
        return json(200, { value: sim.state.allComments() });
      case 'GET /_sim/mail':
        return json(200, { value: sim.state.mail });
      case 'GET /_sim/incidents':
        return json(200, {
          value: [...sim.state.incidents.values()].map((i) => ({ ...i.resource, entities: i.entities, alerts: i.alerts })),
        });
      case 'PUT /_sim/incidents': {
        const b = req.body;
        if (!isRecord(b) || typeof b.id !== 'string' || !isRecord(b.properties)) {
          return json(400, { error: 'body must be an incident ARM resource with id and properties' });
        }
        const rec = sim.state.putIncident({
          id: b.id,
          name: typeof b.name === 'string' ? b.name : undefined,
          etag: typeof b.etag === 'string' ? b.etag : undefined,
          properties: b.properties,
          entities: Array.isArray(b.entities) ? (b.entities as Record<string, unknown>[]) : undefined,
          alerts: Array.isArray(b.alerts) ? (b.alerts as Record<string, unknown>[]) : undefined,
        });
        return json(200, { ...rec.resource, entities: rec.entities, alerts: rec.alerts });
      }
      case 'GET /_sim/state':
        return json(200, sim.state.summary());
      default:
        break;
    }
    const m = OBJECT_PATH.exec(path);
    if (m) {
      const id = decodeURIComponent(m[1] as string);
      const obj = sim.state.get(id) ?? sim.state.byUpn.get(id.toLowerCase());
      if (method === 'GET') {
        return obj
          ? json(200, { ...obj, deleted: obj.deleted === true, riskState: obj.riskState ?? 'none', riskLevel: obj.riskLevel ?? 'none' })
          : json(404, { error: `no object ${id}` });
      }
      if (method === 'PATCH') {
        if (!obj) {
          return json(404, { error: `no object ${id}` });
        }
        if (!isRecord(req.body)) {
          return json(400, { error: 'body must be a JSON object' });
        }
        const before = { appId: obj.appId, userPrincipalName: obj.userPrincipalName };
        const changes: Record<string, unknown> = { ...req.body };
        delete changes.id;
        Object.assign(obj, changes);
        // Leave `deleted` unset rather than false so a restored object looks like a seeded one.
        if (changes.deleted === false) {
          delete obj.deleted;
          delete obj.deletedDateTime;
        }
        collectionOf(obj);
        sim.state.reindex(obj, before);
        return json(200, { ...obj, deleted: obj.deleted === true });
      }
    }
    return json(404, { error: `no admin route ${method} ${path}` });
  } catch (err) {
    return badRequest(err);
  }
}
