/**
 * Public types of the tenant simulator. Other engineers code against these shapes (in-process and over the
 * `/_sim` admin routes), so changes here are contract changes.
 */

/** Behaviour knobs; every field can be changed at run time through `setKnobs` or `PATCH /_sim/knobs`. */
export interface Knobs {
  /** Added to every Graph/ARM/ticket call (not admin, not MI). */
  latencyMs: number;
  /** 0..1 fraction of Graph/ARM calls answering 503 (transient). */
  errorRate: number;
  /** 0..1 fraction of Graph calls answering 429 with `Retry-After: 1`. */
  throttleRate: number;
  /** 0..1 fraction of connections destroyed without a response. */
  dropRate: number;
  /** Identity Protection at 1 request/s per tenant; excess get 429 without Retry-After. */
  identityProtectionThrottle: boolean;
  /** Directory writes limited to 3000 per 150 s per app, answering 429 with Retry-After. */
  directoryWriteThrottle: boolean;
  /** Application permissions the responder holds; a Graph call needing one it lacks gets 403. */
  grantedPermissions: string[] | 'all';
  /** HMAC secret the webhook receiver verifies. */
  webhookSecret: string;
  servicenow: { username: string; password: string };
  jira: { email: string; apiToken: string };
}

export const DEFAULT_KNOBS: Readonly<Knobs> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  throttleRate: 0,
  dropRate: 0,
  identityProtectionThrottle: false,
  directoryWriteThrottle: false,
  grantedPermissions: 'all',
  webhookSecret: 'dev-webhook-secret-0123456789',
  servicenow: { username: 'responder', password: 'dev-password' },
  jira: { email: 'responder@contoso.example', apiToken: 'dev-jira-token' },
});

export type SimService = 'graph' | 'arm' | 'msi' | 'servicenow' | 'jira' | 'webhook';

export interface CallRecord {
  seq: number;
  at: number;
  method: string;
  path: string;
  query: string;
  body: unknown;
  /** 0 when the connection was dropped on purpose (dropRate or a `drop` fault). */
  status: number;
  service: SimService;
  requestId?: string;
  /** Set on the inner requests of a Graph `$batch`, which are logged one by one after the batch itself. */
  batchId?: string;
}

export interface FaultRule {
  method?: string;
  /** RegExp source matched against the path without the query string. */
  path: string;
  status: number;
  retryAfter?: number;
  /** How many matching calls the rule still answers. */
  times: number;
  body?: unknown;
  /** Destroy the connection instead of answering. */
  drop?: boolean;
}

/** A directory object as seeded and stored: Graph-shaped properties plus the simulator's own bookkeeping. */
export interface DirObject {
  id: string;
  '@odata.type': string;
  displayName?: string;
  accountEnabled?: boolean;
  /** Object ids of owners (users or service principals). */
  owners?: string[];
  /** Object ids of sponsors (users or groups). */
  sponsors?: string[];
  /** Group ids, for users. */
  memberOf?: string[];
  riskState?: string;
  riskLevel?: string;
  riskDetail?: string;
  riskLastUpdatedDateTime?: string;
  /** Soft-deleted: Graph answers 404, `/_sim/objects/{id}` still shows it. */
  deleted?: boolean;
  [property: string]: unknown;
}

/** A Sentinel incident as seeded: the ARM resource plus its entities, alerts and comments. */
export interface SeedIncident {
  /** Full ARM id. */
  id: string;
  name?: string;
  etag?: string;
  type?: string;
  properties: Record<string, unknown>;
  entities?: Record<string, unknown>[];
  alerts?: Record<string, unknown>[];
  comments?: { name: string; properties: Record<string, unknown> }[];
}

export interface TenantSeed {
  tenantId: string;
  responder: { objectId: string; appId: string; displayName: string };
  servicePrincipals: DirObject[];
  users: DirObject[];
  groups: DirObject[];
  applications: DirObject[];
  incidents: SeedIncident[];
}

export type SeedChoice = TenantSeed | 'demo' | 'empty';
