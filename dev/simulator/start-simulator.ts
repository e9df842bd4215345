import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AdminTarget } from './admin-routes';
import { handleAdmin } from './admin-routes';
import { handleArm } from './arm-routes';
import { handleLogAnalytics } from './log-analytics-routes';
import { FaultRules, randomFault, withheld, withholdAnswer } from './faults';
import { faultResponse, finishGraphResponse, handleBatch } from './graph-batch';
import { allPermissions } from './graph-permissions';
import type { GraphCall, GraphEnv } from './graph-routes';
import { graphError, handleGraphCall } from './graph-routes';
import { ARM_AUDIENCE, GRAPH_AUDIENCE, handleManagedIdentity, verifyBearer } from './managed-identity';
import { handleOidc, simulatorIssuer } from './oidc-routes';
import { seedTenant } from './seed-tenant';
import type { SimRequest, SimResponse } from './sim-http';
import { headerMap, json, newGuid, parseBody, readBody, sleep, writeResponse } from './sim-http';
import type { CallRecord, FaultRule, Knobs, SimService, TenantSeed } from './sim-types';
import { DEFAULT_KNOBS } from './sim-types';
import { TenantState } from './tenant-state';
import { DirectoryWriteWindow, IdentityProtectionBucket } from './throttle';
import { handleJira, handleServiceNow, handleWebhook } from './ticket-routes';
import { handleTeamsAdmin, TEAMS_PATH, TeamsChannel } from './teams-routes';
import { handleIngestionAdmin, isLogIngestionPath, LogIngestion } from './log-ingestion-routes';

export type { CallRecord, DirObject, FaultRule, Knobs, SeedChoice, TenantSeed } from './sim-types';
export { DEFAULT_KNOBS } from './sim-types';
export { DEMO } from './demo-ids';
export { REQUIRED_PERMISSIONS } from './graph-permissions';
export { TenantState } from './tenant-state';
export { signWebhook } from './ticket-routes';
export { simulatorIssuer } from './oidc-routes';

export interface SimulatorOptions {
  /** Default 0 = a free port; the server binds 127.0.0.1. */
  port?: number;
  /** Default 'demo'. */
  seed?: TenantSeed | 'demo' | 'empty';
  knobs?: Partial<Knobs>;
}

/** See {@link Simulator.intercept}. */
export type CallInterceptor = (call: { service: SimService; method: string; path: string }, phase: 'received' | 'committed') => Promise<'continue' | 'drop'>;

export interface Simulator {
  /** e.g. http://127.0.0.1:54321 (no trailing slash). */
  url: string;
  /** `${url}/msi/token`, for IDENTITY_ENDPOINT. */
  identityEndpoint: string;
  /** Random secret generated at start, for IDENTITY_HEADER. */
  identityHeader: string;
  /** The Teams channel behind a Workflows webhook: its captured cards, and failures to answer with. */
  teams: TeamsChannel;
  /** The audit pipeline's Logs Ingestion endpoint: the rows received, and failures to answer with. */
  ingestion: LogIngestion;
  /** For TEAMS_WEBHOOK_URL (its `sig` is the secret). */
  teamsWebhookUrl: string;
  /** The tenant's OpenID issuer (discovery, keys, signed tokens), for WEBSITE_AUTH_OPENID_ISSUER. */
  openIdIssuer: string;
  /** Live in-process state (objects, tickets, comments, mail, incidents). */
  state: TenantState;
  /** Call log, in order; `/_sim` admin calls are not logged. */
  calls: CallRecord[];
  setKnobs(k: Partial<Knobs>): void;
  addFault(f: FaultRule): void;
  /** Ends every fault rule added (what `DELETE /_sim/faults` does over HTTP). */
  clearFaults(): void;
  /**
   * Lets a test stop the world at an external call: called when a call arrives (`received`, nothing done yet) and
   * once it took effect (`committed`, the answer not sent). Answering `drop` loses the answer (the connection is
   * destroyed), e.g. after the test killed the app at that boundary. Unset with `undefined`.
   */
  intercept(fn: CallInterceptor | undefined): void;
  reset(seed?: TenantSeed | 'demo' | 'empty'): void;
  stop(): Promise<void>;
}

function serviceOf(path: string): SimService | 'admin' | undefined {
  if (path.startsWith('/v1.0/') || path.startsWith('/beta/') || path === '/v1.0' || path === '/beta') {
    return 'graph';
  }
  if (path.startsWith('/_sim')) {
    return 'admin';
  }
  if (path.startsWith('/msi/')) {
    return 'msi';
  }
  if (path.startsWith('/subscriptions/')) {
    return 'arm';
  }
  if (path.startsWith('/v1/workspaces/')) {
    return 'loganalytics';
  }
  if (path.startsWith('/api/now/')) {
    return 'servicenow';
  }
  if (path.startsWith('/rest/api/')) {
    return 'jira';
  }
  if (path.startsWith('/webhook/')) {
    return 'webhook';
  }
  return undefined;
}

function mergeKnobs(base: Knobs, patch: Partial<Knobs>): Knobs {
  return {
    ...base,
    ...patch,
    servicenow: { ...base.servicenow, ...patch.servicenow },
    jira: { ...base.jira, ...patch.jira },
    grantedPermissions: Array.isArray(patch.grantedPermissions)
      ? [...patch.grantedPermissions]
      : (patch.grantedPermissions ?? base.grantedPermissions),
  };
}

/**
 * Start the tenant simulator: one node:http server on 127.0.0.1 standing in for Microsoft Graph, the App
 * Service managed-identity endpoint, ARM (Sentinel incidents), the Log Analytics query API (`SecurityAlert`),
 * ServiceNow, Jira and a ticket webhook.
 *
 * @example
 * const sim = await startSimulator();
 * process.env.IDENTITY_ENDPOINT = sim.identityEndpoint;
 * process.env.IDENTITY_HEADER = sim.identityHeader;
 * process.env.GRAPH_ENDPOINT = sim.url;
 * // ... run the app, then assert on sim.state / sim.calls
 * await sim.stop();
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const state = new TenantState(seedTenant(options.seed ?? 'demo'));
  let knobs: Knobs = mergeKnobs(structuredClone(DEFAULT_KNOBS), options.knobs ?? {});
  const faults = new FaultRules();
  const calls: CallRecord[] = [];
  let seq = 0;
  const ipBucket = new IdentityProtectionBucket();
  const writeWindow = new DirectoryWriteWindow();
  const identityHeader = randomBytes(24).toString('hex');
  const sockets = new Set<Socket>();

  let interceptor: CallInterceptor | undefined;
  const record = (rec: Omit<CallRecord, 'seq' | 'at'>): void => {
    calls.push({ seq: ++seq, at: Date.now(), ...rec });
  };

  let url = '';
  const env: GraphEnv = { state, knobs: () => knobs, ipBucket, writeWindow, baseUrl: '' };

  const teams = new TeamsChannel();
  const ingestion = new LogIngestion();
  const sim: Simulator & AdminTarget = {
    url: '',
    identityEndpoint: '',
    identityHeader,
    teams,
    ingestion,
    teamsWebhookUrl: '',
    openIdIssuer: '',
    state,
    calls,
    knobs: () => knobs,
    setKnobs(k) {
      knobs = mergeKnobs(knobs, k);
    },
    addFault(f) {
      faults.add(f);
    },
    intercept(fn) {
      interceptor = fn;
    },
    clearFaults() {
      faults.clear();
    },
    listFaults: () => faults.list(),
    clearCalls() {
      calls.length = 0;
    },
    reset(seed) {
      state.load(seedTenant(seed ?? 'demo'));
      faults.clear();
      ipBucket.reset();
      writeWindow.reset();
      calls.length = 0;
      teams.clear();
      ingestion.clear();
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sockets) {
          s.destroy();
        }
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };

  function serviceResponse(service: SimService, req: SimRequest, requestId: string): SimResponse {
    switch (service) {
      case 'msi':
        return req.path === '/msi/token'
          ? handleManagedIdentity(req, {
              identityHeader,
              tenantId: state.tenantId,
              responderObjectId: state.responder.objectId,
              responderAppId: state.responder.appId,
              roles: () => (knobs.grantedPermissions === 'all' ? allPermissions() : [...knobs.grantedPermissions]),
            })
          : json(404, { error: 'not found' });
      case 'graph': {
        const auth = verifyBearer(req.headers.authorization, GRAPH_AUDIENCE);
        if (!auth.ok) {
          return graphError(401, 'InvalidAuthenticationToken', auth.message);
        }
        const version = req.path.startsWith('/beta') ? 'beta' : 'v1.0';
        const call: GraphCall = {
          version: version,
          method: req.method,
          path: req.path.slice(version.length + 1) || '/',
          query: req.query,
          headers: req.headers,
          body: req.body,
          bodyInvalid: req.bodyInvalid,
        };
        if (/^\/\$batch\/?$/i.test(call.path)) {
          if (req.method.toUpperCase() !== 'POST') {
            return graphError(400, 'BadRequest', "Resource not found for the segment '$batch'.");
          }
          return handleBatch({ env, faults, record }, call, requestId);
        }
        return handleGraphCall(env, call);
      }
      case 'arm': {
        const auth = verifyBearer(req.headers.authorization, ARM_AUDIENCE);
        if (!auth.ok) {
          return graphError(401, 'InvalidAuthenticationToken', auth.message);
        }
        return handleArm(state, req);
      }
      case 'loganalytics':
        return handleLogAnalytics(state, knobs, req);
      case 'servicenow':
        return handleServiceNow(state, knobs, req);
      case 'jira':
        return handleJira(state, knobs, req);
      case 'webhook':
        return handleWebhook(state, knobs, req);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const rawQuery = q >= 0 ? rawUrl.slice(q + 1) : '';
    const service = serviceOf(path);
    const headers = headerMap(req);
    const rawBody = await readBody(req);
    const { body, invalid } = parseBody(rawBody, headers['content-type']);
    const simReq: SimRequest = {
      method: req.method ?? 'GET',
      path,
      query: new URLSearchParams(rawQuery),
      rawQuery,
      headers,
      rawBody,
      body,
      bodyInvalid: invalid,
      baseUrl: url,
    };
    if (path === '/_sim/teams' || path.startsWith(TEAMS_PATH)) {
      writeResponse(res, path === '/_sim/teams' ? handleTeamsAdmin(teams, simReq) : await teams.handle(simReq));
      return;
    }
    if (isLogIngestionPath(path)) {
      writeResponse(res, path === '/_sim/ingested' ? handleIngestionAdmin(ingestion, simReq) : await ingestion.handle(simReq));
      return;
    }
    // Sign-in (OIDC discovery, keys, token minting) is Entra's, not Graph's: no faults, no call log.
    const oidc = await handleOidc(state, simReq);
    if (oidc) {
      writeResponse(res, oidc);
      return;
    }
    if (service === 'admin') {
      writeResponse(res, handleAdmin(sim, simReq));
      return;
    }
    if (service === undefined) {
      writeResponse(res, json(404, { error: `the simulator serves no route at ${path}` }));
      return;
    }
    const requestId = newGuid();
    const clientRequestId = headers['client-request-id'] ?? requestId;
    const intercepted = service === 'msi' ? undefined : interceptor;
    if (intercepted && (await intercepted({ service, method: simReq.method, path }, 'received')) === 'drop') {
      record({ method: simReq.method, path, query: rawQuery, body, status: 0, service, requestId, fault: 'intercepted' });
      withholdAnswer(req, 'drop');
      return;
    }

    if (knobs.latencyMs > 0 && service !== 'msi') {
      await sleep(knobs.latencyMs);
    }
    const rule = faults.take(simReq.method, path, service);
    const isBatch = service === 'graph' && /\/\$batch\/?$/i.test(path);
    const random = rule || isBatch ? undefined : randomFault(knobs, service);
    const before = rule?.afterCommit ? undefined : rule;
    const withhold = withheld(before) ?? (random === 'drop' ? 'drop' : undefined);
    if (withhold) {
      record({ method: simReq.method, path, query: rawQuery, body, status: 0, service, requestId, ...(before ? { fault: withhold } : {}) });
      withholdAnswer(req, withhold);
      return;
    }
    let response: SimResponse;
    const shape = service === 'graph' || service === 'arm' ? service : 'plain';
    if (before) {
      response = faultResponse(before, shape === 'plain' ? 'plain' : 'graph');
    } else if (random === 'throttle') {
      response = graphError(429, 'TooManyRequests', 'Too many requests.', { 'Retry-After': '1' });
    } else if (random === 'error') {
      response = graphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.');
    } else {
      response = serviceResponse(service, simReq, requestId);
    }
    if (rule?.afterCommit) {
      // The route ran and its effect stays; only the answer is lost (or replaced).
      const after = withheld(rule);
      if (after) {
        record({ method: simReq.method, path, query: rawQuery, body, status: 0, service, requestId, fault: `${after}-after-commit` });
        withholdAnswer(req, after);
        return;
      }
      response = faultResponse(rule, shape === 'plain' ? 'plain' : 'graph');
    }
    if (service === 'graph') {
      response = finishGraphResponse(response, requestId, clientRequestId);
    } else if (service === 'arm') {
      response = {
        ...response,
        headers: { 'x-ms-request-id': requestId, 'x-ms-correlation-request-id': clientRequestId, ...response.headers },
      };
    }
    if (intercepted && (await intercepted({ service, method: simReq.method, path }, 'committed')) === 'drop') {
      record({ method: simReq.method, path, query: rawQuery, body, status: 0, service, requestId, fault: 'intercepted-after-commit' });
      withholdAnswer(req, 'drop');
      return;
    }
    record({ method: simReq.method, path, query: rawQuery, body, status: response.status, service, requestId, ...(rule ? { fault: rule.afterCommit ? 'status-after-commit' : 'status' } : {}) });
    writeResponse(res, response);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the simulator must be visible in the test that hit it, not crash the process.
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) {
        writeResponse(res, json(500, { error: { code: 'SimulatorError', message } }));
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
  env.baseUrl = url;
  sim.url = url;
  sim.identityEndpoint = `${url}/msi/token`;
  sim.teamsWebhookUrl = teams.webhookUrl(url);
  sim.openIdIssuer = simulatorIssuer(url, state.tenantId);
  return sim;
}
