import type { DirObject, SecurityAlertRow, SeedIncident, SeedWorkspace, TenantSeed } from './sim-types';

/** Which entity set an object lives in, by its `@odata.type`. */
export type Collection = 'servicePrincipals' | 'users' | 'groups' | 'applications';

const COLLECTION_OF_TYPE: Record<string, Collection> = {
  '#microsoft.graph.servicePrincipal': 'servicePrincipals',
  '#microsoft.graph.agentIdentity': 'servicePrincipals',
  '#microsoft.graph.agentIdentityBlueprintPrincipal': 'servicePrincipals',
  '#microsoft.graph.user': 'users',
  '#microsoft.graph.agentUser': 'users',
  '#microsoft.graph.group': 'groups',
  '#microsoft.graph.application': 'applications',
  '#microsoft.graph.agentIdentityBlueprint': 'applications',
};

/** Base types of every derived type we seed: a cast to a base type matches its derived types too. */
const ANCESTORS: Record<string, readonly string[]> = {
  'microsoft.graph.servicePrincipal': ['microsoft.graph.servicePrincipal', 'microsoft.graph.directoryObject'],
  'microsoft.graph.agentIdentity': [
    'microsoft.graph.agentIdentity',
    'microsoft.graph.servicePrincipal',
    'microsoft.graph.directoryObject',
  ],
  'microsoft.graph.agentIdentityBlueprintPrincipal': [
    'microsoft.graph.agentIdentityBlueprintPrincipal',
    'microsoft.graph.servicePrincipal',
    'microsoft.graph.directoryObject',
  ],
  'microsoft.graph.user': ['microsoft.graph.user', 'microsoft.graph.directoryObject'],
  'microsoft.graph.agentUser': ['microsoft.graph.agentUser', 'microsoft.graph.user', 'microsoft.graph.directoryObject'],
  'microsoft.graph.group': ['microsoft.graph.group', 'microsoft.graph.directoryObject'],
  'microsoft.graph.application': ['microsoft.graph.application', 'microsoft.graph.directoryObject'],
  'microsoft.graph.agentIdentityBlueprint': [
    'microsoft.graph.agentIdentityBlueprint',
    'microsoft.graph.application',
    'microsoft.graph.directoryObject',
  ],
};

/** `microsoft.graph.agentIdentity` for an object typed `#microsoft.graph.agentIdentity`. */
export function typeNameOf(obj: DirObject): string {
  return obj['@odata.type'].replace(/^#/, '');
}

/** True when the object is of `typeName` or derives from it (`typeName` with or without `microsoft.graph.`). */
export function isOfType(obj: DirObject, typeName: string): boolean {
  const wanted = (typeName.includes('.') ? typeName : `microsoft.graph.${typeName}`).toLowerCase();
  const chain = ANCESTORS[typeNameOf(obj)] ?? [typeNameOf(obj)];
  return chain.some((t) => t.toLowerCase() === wanted);
}

export function collectionOf(obj: DirObject): Collection {
  const c = COLLECTION_OF_TYPE[obj['@odata.type']];
  if (!c) {
    throw new Error(`unsupported @odata.type '${obj['@odata.type']}' for object ${obj.id}`);
  }
  return c;
}

export interface IncidentComment {
  id: string;
  name: string;
  type: string;
  etag: string;
  properties: Record<string, unknown>;
}

export interface IncidentRecord {
  resource: { id: string; name: string; etag: string; type: string; properties: Record<string, unknown> };
  entities: Record<string, unknown>[];
  alerts: Record<string, unknown>[];
  comments: Map<string, IncidentComment>;
}

export interface ServiceNowRecord {
  table: string;
  fields: Record<string, unknown> & { sys_id: string; number: string };
  /** Journal entries (work_notes / comments), oldest first. */
  journal: { field: string; value: string; at: string }[];
}

export interface JiraIssue {
  id: string;
  key: string;
  fields: Record<string, unknown>;
  /** `properties`: the comment's entity properties (`{ key, value }`), set at create or by PUT. */
  comments: { id: string; body: unknown; created: string; properties?: { key: string; value: unknown }[] }[];
}

export interface WebhookDelivery {
  id: string;
  idempotencyKey?: string;
  at: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface SentMail {
  id: string;
  from: string;
  fromId: string;
  at: number;
  message: Record<string, unknown>;
  saveToSentItems: boolean;
  to: string[];
  subject: string;
}

/**
 * The live tenant: directory objects (kept in insertion order per entity set so paging is stable and cheap),
 * Sentinel incidents, tickets and sent mail. Plain data, mutated by the route handlers.
 */
export class TenantState {
  tenantId = '';
  responder = { objectId: '', appId: '', displayName: '' };
  readonly objects = new Map<string, DirObject>();
  readonly collections: Record<Collection, DirObject[]> = {
    servicePrincipals: [],
    users: [],
    groups: [],
    applications: [],
  };
  readonly byAppId = new Map<string, DirObject>();
  readonly byUpn = new Map<string, DirObject>();
  readonly incidents = new Map<string, IncidentRecord>();
  readonly tickets: { servicenow: ServiceNowRecord[]; jira: JiraIssue[]; webhook: WebhookDelivery[] } = {
    servicenow: [],
    jira: [],
    webhook: [],
  };
  readonly mail: SentMail[] = [];
  /** Log Analytics workspaces by lower-case customer id. */
  readonly workspaces = new Map<string, SeedWorkspace>();
  /** The `SecurityAlert` table of every workspace, in ingestion order (`Entities` as a JSON string). */
  readonly securityAlerts: SecurityAlertRow[] = [];
  /** Counter for deterministic generated ids. */
  generatedCount = 0;

  constructor(seed: TenantSeed) {
    this.load(seed);
  }

  /** Replace everything with the seed. */
  load(seed: TenantSeed): void {
    this.objects.clear();
    for (const c of Object.values(this.collections)) {
      c.length = 0;
    }
    this.byAppId.clear();
    this.byUpn.clear();
    this.incidents.clear();
    this.tickets.servicenow.length = 0;
    this.tickets.jira.length = 0;
    this.tickets.webhook.length = 0;
    this.mail.length = 0;
    this.workspaces.clear();
    this.securityAlerts.length = 0;
    this.generatedCount = 0;
    this.tenantId = seed.tenantId;
    this.responder = { ...seed.responder };
    this.addSeed(seed);
  }

  /** Add (or replace, by id) the objects and incidents of a partial seed. */
  addSeed(seed: Partial<TenantSeed>): void {
    for (const list of [seed.servicePrincipals, seed.users, seed.groups, seed.applications]) {
      for (const o of list ?? []) {
        this.put(structuredClone(o));
      }
    }
    for (const inc of seed.incidents ?? []) {
      this.putIncident(inc);
    }
    for (const ws of seed.workspaces ?? []) {
      this.workspaces.set(ws.customerId.toLowerCase(), { ...ws });
    }
    for (const row of seed.securityAlerts ?? []) {
      this.addSecurityAlert(row);
    }
  }

  /** Appends a `SecurityAlert` row (a changed alert is a new row, as in Log Analytics). */
  addSecurityAlert(row: SecurityAlertRow): void {
    const stored: SecurityAlertRow = { Type: 'SecurityAlert', ...structuredClone(row) };
    for (const column of ['Entities', 'ExtendedProperties']) {
      if (stored[column] !== undefined && typeof stored[column] !== 'string') {
        stored[column] = JSON.stringify(stored[column]);
      }
    }
    this.securityAlerts.push(stored);
  }

  /** Insert or replace one object; replacing keeps its position in its entity set. */
  put(obj: DirObject): DirObject {
    const key = obj.id.toLowerCase();
    const existing = this.objects.get(key);
    const list = this.collections[collectionOf(obj)];
    if (existing) {
      const i = list.indexOf(existing);
      if (i >= 0) {
        list[i] = obj;
      } else {
        list.push(obj);
      }
      this.unindex(existing);
    } else {
      list.push(obj);
    }
    this.objects.set(key, obj);
    this.index(obj);
    return obj;
  }

  /** Fast path for bulk generation: no replacement check. */
  append(obj: DirObject): void {
    this.collections[collectionOf(obj)].push(obj);
    this.objects.set(obj.id.toLowerCase(), obj);
    this.index(obj);
  }

  private index(obj: DirObject): void {
    if (typeof obj.appId === 'string' && collectionOf(obj) === 'servicePrincipals') {
      this.byAppId.set(obj.appId.toLowerCase(), obj);
    }
    if (typeof obj.userPrincipalName === 'string') {
      this.byUpn.set(obj.userPrincipalName.toLowerCase(), obj);
    }
  }

  private unindex(obj: DirObject): void {
    if (typeof obj.appId === 'string' && this.byAppId.get(obj.appId.toLowerCase()) === obj) {
      this.byAppId.delete(obj.appId.toLowerCase());
    }
    if (typeof obj.userPrincipalName === 'string' && this.byUpn.get(obj.userPrincipalName.toLowerCase()) === obj) {
      this.byUpn.delete(obj.userPrincipalName.toLowerCase());
    }
  }

  /** Reindex after a change of appId or userPrincipalName through PATCH. */
  reindex(obj: DirObject, before: { appId?: unknown; userPrincipalName?: unknown }): void {
    if (typeof before.appId === 'string' && this.byAppId.get(before.appId.toLowerCase()) === obj) {
      this.byAppId.delete(before.appId.toLowerCase());
    }
    if (
      typeof before.userPrincipalName === 'string' &&
      this.byUpn.get(before.userPrincipalName.toLowerCase()) === obj
    ) {
      this.byUpn.delete(before.userPrincipalName.toLowerCase());
    }
    this.index(obj);
  }

  /** Any object by id, deleted ones included. */
  get(id: string): DirObject | undefined {
    return this.objects.get(id.toLowerCase());
  }

  /** A live (not deleted) object by id. */
  live(id: string): DirObject | undefined {
    const o = this.objects.get(id.toLowerCase());
    return o && !o.deleted ? o : undefined;
  }

  /** A live user by object id or userPrincipalName. */
  liveUser(idOrUpn: string): DirObject | undefined {
    const o = idOrUpn.includes('@') ? this.byUpn.get(idOrUpn.toLowerCase()) : this.live(idOrUpn);
    return o && !o.deleted && collectionOf(o) === 'users' ? o : undefined;
  }

  liveByAppId(appId: string): DirObject | undefined {
    const o = this.byAppId.get(appId.toLowerCase());
    return o && !o.deleted ? o : undefined;
  }

  putIncident(inc: SeedIncident): IncidentRecord {
    const name = inc.name ?? inc.id.split('/').pop() ?? inc.id;
    const existing = this.incidents.get(inc.id.toLowerCase());
    const record: IncidentRecord = {
      resource: {
        id: inc.id,
        name,
        etag: inc.etag ?? `"${randomEtag()}"`,
        type: inc.type ?? 'Microsoft.SecurityInsights/Incidents',
        properties: structuredClone(inc.properties),
      },
      entities: structuredClone(inc.entities ?? existing?.entities ?? []),
      alerts: structuredClone(inc.alerts ?? existing?.alerts ?? []),
      comments: existing?.comments ?? new Map<string, IncidentComment>(),
    };
    for (const c of inc.comments ?? []) {
      record.comments.set(c.name.toLowerCase(), {
        id: `${inc.id}/comments/${c.name}`,
        name: c.name,
        type: 'Microsoft.SecurityInsights/Incidents/Comments',
        etag: `"${randomEtag()}"`,
        properties: structuredClone(c.properties),
      });
    }
    this.incidents.set(inc.id.toLowerCase(), record);
    return record;
  }

  /** Every incident comment, with the incident it belongs to. */
  allComments(): (IncidentComment & { incidentId: string })[] {
    const out: (IncidentComment & { incidentId: string })[] = [];
    for (const inc of this.incidents.values()) {
      for (const c of inc.comments.values()) {
        out.push({ ...c, incidentId: inc.resource.id });
      }
    }
    return out;
  }

  /** Counts for `GET /_sim/state`. */
  summary(): Record<string, unknown> {
    const byType: Record<string, number> = {};
    let deleted = 0;
    let disabled = 0;
    for (const o of this.objects.values()) {
      byType[o['@odata.type']] = (byType[o['@odata.type']] ?? 0) + 1;
      if (o.deleted) {
        deleted++;
      }
      if (o.accountEnabled === false) {
        disabled++;
      }
    }
    return {
      tenantId: this.tenantId,
      objects: this.objects.size,
      byType,
      deleted,
      disabled,
      incidents: this.incidents.size,
      comments: this.allComments().length,
      tickets: {
        servicenow: this.tickets.servicenow.length,
        jira: this.tickets.jira.length,
        webhook: this.tickets.webhook.length,
      },
      mail: this.mail.length,
      securityAlerts: this.securityAlerts.length,
    };
  }
}

function randomEtag(): string {
  return `${Math.floor(Math.random() * 0xffffffff)
    .toString(16)
    .padStart(8, '0')}-0000-0000-0000-${Date.now().toString(16).padStart(12, '0').slice(-12)}`;
}
