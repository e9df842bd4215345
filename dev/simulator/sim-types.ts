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
  /** The responder holds Log Analytics Reader on the seeded workspaces; false: every query answers 403. */
  logAnalyticsReader: boolean;
  /** HMAC secret the webhook receiver verifies. */
  webhookSecret: string;
  servicenow: { username: string; password: string };
  jira: { email: string; apiToken: string };
  /**
   * How long a newly created Jira issue stays invisible to JQL search (`/rest/api/3/search/jql`), as Jira Cloud's
   * eventually consistent search index is; `GET /rest/api/3/issue/{key}` sees it at once. 0 = consistent.
   */
  jiraSearchLagMs: number;
}

export const DEFAULT_KNOBS: Readonly<Knobs> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  throttleRate: 0,
  dropRate: 0,
  identityProtectionThrottle: false,
  directoryWriteThrottle: false,
  grantedPermissions: 'all',
  logAnalyticsReader: true,
  webhookSecret: 'dev-webhook-secret-0123456789',
  servicenow: { username: 'responder', password: 'dev-password' },
  jira: { email: 'responder@contoso.example', apiToken: 'dev-jira-token' },
  jiraSearchLagMs: 0,
});

export type SimService = 'graph' | 'arm' | 'loganalytics' | 'msi' | 'servicenow' | 'jira' | 'webhook';

export interface CallRecord {
  seq: number;
  at: number;
  method: string;
  path: string;
  query: string;
  body: unknown;
  /** 0 when the answer was withheld on purpose (dropRate, or a `drop` or `hang` fault). */
  status: number;
  /** Set when a fault rule applied; `…-after-commit` means the route ran (its effect is kept) before the answer was lost. */
  fault?: 'status' | 'drop' | 'hang' | 'status-after-commit' | 'drop-after-commit' | 'hang-after-commit' | 'intercepted' | 'intercepted-after-commit';
  service: SimService;
  requestId?: string;
  /** Set on the inner requests of a Graph `$batch`, which are logged one by one after the batch itself. */
  batchId?: string;
}

export interface FaultRule {
  method?: string;
  /** RegExp source matched against the path without the query string. */
  path: string;
  /** Only calls to this service match (default: any). */
  service?: SimService;
  /** The status answered instead (required unless `drop` or `hang`; a `$batch` item gets 504 for those). */
  status?: number;
  retryAfter?: number;
  /** How many matching calls the rule still answers. */
  times: number;
  body?: unknown;
  /** Destroy the connection instead of answering. */
  drop?: boolean;
  /** Never answer: the connection stays open and silent until the client times out. */
  hang?: boolean;
  /**
   * Run the route first (its effect is committed), then apply the fault to the answer: drop it, withhold it,
   * or replace it with `status`. Without it the call never reaches the route.
   */
  afterCommit?: boolean;
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

/** A Log Analytics workspace: its customer id (the "Workspace ID" the query API takes) and its ARM name. */
export interface SeedWorkspace {
  customerId: string;
  subscriptionId: string;
  resourceGroup: string;
  workspaceName: string;
}

/**
 * One row of the `SecurityAlert` table, in its column names (`SystemAlertId`, `AlertName`, `Status`, `Entities`,
 * `TimeGenerated`, …). `TenantId` is the workspace's customer id, as in Log Analytics. `Entities` and
 * `ExtendedProperties` may be seeded as JSON values; the table holds them as strings. An alert that changes is a
 * new row with the same `SystemAlertId` and a later `TimeGenerated`, as Sentinel writes it.
 */
export type SecurityAlertRow = Record<string, unknown> & { TenantId: string; SystemAlertId: string };

export interface TenantSeed {
  tenantId: string;
  responder: { objectId: string; appId: string; displayName: string };
  servicePrincipals: DirObject[];
  users: DirObject[];
  groups: DirObject[];
  applications: DirObject[];
  incidents: SeedIncident[];
  /** Log Analytics workspaces the query API serves (none: every workspace id answers 404). */
  workspaces?: SeedWorkspace[];
  /** Rows of the `SecurityAlert` table, across the seeded workspaces. */
  securityAlerts?: SecurityAlertRow[];
}

export type SeedChoice = TenantSeed | 'demo' | 'empty';
