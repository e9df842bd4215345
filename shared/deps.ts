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
import { openAuditLog, type AuditLog } from './store/audit-log';
import { createTicketProvider } from './tickets/create-ticket-provider';
import type { TicketProvider } from './tickets/ticket-provider';
import { RiskCoalescer } from './containment/risk-coalescer';
import { RecordTable } from './store/record-table';
import { TABLES } from './store/storage';
import type { ApprovalEntity } from './approvals/approval-entity';

/** Everything a use-case may need, built once per worker process. Use-cases take the parts they use. */
export interface Deps {
  config: Config;
  credential: TokenCredential;
  graph: Graph;
  sentinel: Sentinel;
  /** Re-reads alerts from their workspace (Log Analytics query API, `SecurityAlert`). */
  logAnalytics: LogAnalytics;
  storage: Storage;
  cases: CaseStore;
  keys: KeyStore;
  audit: AuditLog;
  approvals: RecordTable<ApprovalEntity>;
  tickets: TicketProvider;
  risk: RiskCoalescer;
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

export async function buildDeps(config: Config): Promise<Deps> {
  const credential = createCredential(config);
  const graph = createGraph({ credential, endpoint: config.GRAPH_ENDPOINT });
  const storage = createStorage(config, credential);
  const [cases, keys, audit, approvalsTable] = await Promise.all([
    CaseStore.open(storage),
    KeyStore.open(storage),
    openAuditLog(storage),
    storage.table(TABLES.approvals),
  ]);
  let responder: Promise<string | undefined> | undefined;
  return {
    config,
    credential,
    graph,
    sentinel: createSentinel({ credential, endpoint: config.ARM_ENDPOINT }),
    logAnalytics: createLogAnalytics({ credential, endpoint: config.LOG_ANALYTICS_ENDPOINT }),
    storage,
    cases,
    keys,
    audit,
    approvals: new RecordTable<ApprovalEntity>(approvalsTable),
    tickets: createTicketProvider(config),
    risk: new RiskCoalescer(graph),
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
    now: Date.now,
  };
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
