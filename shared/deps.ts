import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { getConfig, type Config } from './config';
import { sharedTokenCredential } from './identity/shared-token-credential';
import { readTokenClaims } from './identity/token-claims';
import { createGraph, GRAPH_SCOPE, type Graph } from './graph/graph-client';
import { createLogAnalytics, type LogAnalytics } from './sentinel/log-analytics-client';
import { createSentinel, type Sentinel } from './sentinel/sentinel-client';
import { createStorage, type Storage } from './store/storage';
import { CaseStore } from './store/case-store';
import { KeyStore } from './store/key-store';
import { IdentityOwners } from './store/identity-owners';
import { openAuditLog, type AuditLog } from './store/audit-log';
import { createTicketProvider } from './tickets/create-ticket-provider';
import type { TicketProvider } from './tickets/ticket-provider';
import { RiskCoalescer } from './graph/risk-coalescer';
import { DirectoryResolver } from './graph/directory-resolver';
import { RecordTable } from './store/record-table';
import { TABLES } from './store/storage';
import type { ApprovalEntity } from './approvals/approval-entity';
import { EmergencyStop } from './control/emergency-stop';
import { guardGraph, guardSentinel, guardTickets } from './control/write-guard';
import { buildPlanners } from './responder/planners';
import { ReadAhead } from './plans/read-ahead';
import { casePageUrl } from './console/case-page-url';
import type { Planners } from './plans/run-case';
import { consoleLogger } from './logger';
import { AuditIngestion } from './store/audit-ingestion';
import { countPendingApprovals, observeApprovalsPending } from './approvals/approvals-pending';

/** Everything a use-case may need, built once per worker process. Use-cases take the parts they use. */
export interface Deps {
  config: Config;
  credential: TokenCredential;
  /** Graph, with every write checked against the emergency stop. */
  graph: Graph;
  sentinel: Sentinel;
  /** Where audit rows also go (Logs Ingestion API), when configured; `flush()` for shutdown and tests. */
  auditIngestion: AuditIngestion | undefined;
  /** Re-reads alerts from their workspace (Log Analytics query API, `SecurityAlert`). */
  logAnalytics: LogAnalytics;
  storage: Storage;
  cases: CaseStore;
  keys: KeyStore;
  owners: IdentityOwners;
  audit: AuditLog;
  approvals: RecordTable<ApprovalEntity>;
  tickets: TicketProvider;
  risk: RiskCoalescer;
  resolver: DirectoryResolver;
  stop: EmergencyStop;
  planners: Planners;
  /** The responder's first reads, sent by the intake for the run this process starts on the message. */
  readAhead: ReadAhead;
  /** Where a case is shown to people (ticket and comment links). */
  caseUrl: (caseId: string) => string | undefined;
  /** The responder's own service principal object id (never acted on). */
  responderId: () => Promise<string | undefined>;
  now: () => number;
}

/** Managed identity only: no client secrets or certificates in settings. */
export function createCredential(config: Config): TokenCredential {
  return sharedTokenCredential(config.AZURE_CLIENT_ID ? new ManagedIdentityCredential({ clientId: config.AZURE_CLIENT_ID }) : new DefaultAzureCredential());
}

/** Reads the `oid` claim of our own Graph token: the identity the responder must never contain. */
export async function objectIdFromToken(credential: TokenCredential): Promise<string | undefined> {
  const token = await credential.getToken(GRAPH_SCOPE);
  const oid = token ? readTokenClaims(token.token)?.['oid'] : undefined;
  return typeof oid === 'string' ? oid.toLowerCase() : undefined;
}

/** Builds the worker's dependencies; `now` is injectable for tests that move the clock. */
export async function buildDeps(config: Config, options: { now?: () => number } = {}): Promise<Deps> {
  const now = options.now ?? Date.now;
  const credential = createCredential(config);
  const storage = createStorage(config, credential);
  const ingestion = createAuditIngestion(config, credential);
  const [cases, keys, owners, audit, approvalsTable, stop] = await Promise.all([
    CaseStore.open(storage),
    KeyStore.open(storage),
    IdentityOwners.open(storage),
    openAuditLog(storage, consoleLogger, ingestion),
    storage.table(TABLES.approvals),
    EmergencyStop.open(storage, config.EMERGENCY_STOP, now),
  ]);
  observeApprovalsPending(() => countPendingApprovals(approvalsTable), now);
  const graph = guardGraph(createGraph({ credential, endpoint: config.GRAPH_ENDPOINT }), stop);
  const sentinel = guardSentinel(createSentinel({ credential, endpoint: config.ARM_ENDPOINT }), stop);
  const tickets = guardTickets(createTicketProvider(config), stop);
  const risk = new RiskCoalescer(graph);
  const resolver = new DirectoryResolver(graph);
  // Tickets, comments and mail link to the case page people sign in to, not to the JSON API behind a key.
  const caseUrl = (caseId: string): string | undefined => casePageUrl(config, caseId);
  let responder: Promise<string | undefined> | undefined;
  const logAnalytics = createLogAnalytics({ credential, endpoint: config.LOG_ANALYTICS_ENDPOINT });
  const base = { config, graph, sentinel, logAnalytics, resolver, risk, caseUrl, now };
  const planners = buildPlanners(base);
  return {
    ...base,
    credential,
    storage,
    cases,
    keys,
    owners,
    audit,
    auditIngestion: ingestion,
    approvals: new RecordTable<ApprovalEntity>(approvalsTable),
    tickets,
    stop,
    planners,
    readAhead: new ReadAhead((record, targets) => planners.contain.prepare?.(record, targets) ?? Promise.reject(new Error('containment has no reads')), now),
    responderId: () => {
      if (config.RESPONDER_OBJECT_ID) {
        return Promise.resolve(config.RESPONDER_OBJECT_ID);
      }
      responder ??= objectIdFromToken(credential).catch((err: unknown) => {
        responder = undefined;
        throw err;
      });
      return responder;
    },
    now,
  };
}

/** The Logs Ingestion sink of the audit log, when `AUDIT_INGESTION_ENDPOINT` (and its rule and stream) are set. */
export function createAuditIngestion(config: Config, credential: TokenCredential): AuditIngestion | undefined {
  const { AUDIT_INGESTION_ENDPOINT: endpoint, AUDIT_DCR_IMMUTABLE_ID: ruleId, AUDIT_STREAM_NAME: streamName } = config;
  return endpoint && ruleId && streamName ? new AuditIngestion({ endpoint, ruleId, streamName, credential, log: consoleLogger }) : undefined;
}

let deps: Promise<Deps> | undefined;

/** The worker's dependencies; config errors surface here, naming every bad setting. */
export function getDeps(): Promise<Deps> {
  deps ??= buildDeps(getConfig()).catch((err: unknown) => {
    deps = undefined;
    throw err;
  });
  return deps;
}
