import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../dev/simulator/start-simulator';
import { simulatorAppEnv } from '../../dev/app-env';
import { loadConfig } from '../../shared/config';
import { buildDeps, type Deps } from '../../shared/deps';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { runCase, type Invocation } from '../../shared/plans/run-case';
import { QUEUES } from '../../shared/store/storage';
import { processCaseMessage } from '../../shared/responder/process-case-message';
import type { SeedIncident } from '../../dev/simulator/sim-types';
import { claimStorageAccount } from './storage-account';
import type { ApprovalEntity } from '../../shared/approvals/approval-entity';
import { inject } from 'vitest';
import { startStorageProxy, type StorageGate, type StorageProxy } from '../../dev/storage-proxy';

export interface InProcessApp {
  sim: Simulator;
  /** The app's real dependencies (storage on a private Azurite account, Graph to the simulator), on `clock`. */
  deps: Deps;
  /** The time `deps.now()` returns; tests move it forward. */
  clock: { now: number };
  inv: Invocation;
  /** Posts the demo incident through the intake and runs the responder: the demo agent ends up contained. */
  containDemoAgent(): Promise<string>;
  /** Puts `seed` in Sentinel (the simulator), posts `trigger` through the intake and runs the responder. */
  contain(incident: { seed: SeedIncident; trigger: Record<string, unknown> }): Promise<string>;
  /** Runs what waits on the containment queue through the queue trigger's use-case, until it is empty. */
  drainQueue(): Promise<number>;
  /** Messages waiting on the containment queue (decoded), without taking them. */
  queuedMessages(): Promise<Record<string, unknown>[]>;
  /**
   * Runs `fn` with every storage request of the app put to `gate` (an app started `throughStorageProxy`), then lets
   * requests through again.
   */
  withStorageGate<T>(gate: StorageGate, fn: () => Promise<T>): Promise<T>;
  /** The stored approval `id`; throws when there is none. */
  approval(id: string): Promise<ApprovalEntity>;
  stop(): Promise<void>;
}

const INCIDENT = readFileSync(resolve(__dirname, '../fixtures/demo/incident.json'), 'utf8');
const SILENT = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The app's use-cases in this process, on the same settings `npm start` uses: the tenant simulator in
 * process, storage on a claimed Azurite account (optionally through the storage proxy), and the managed-identity variables App Service sets, so
 * `@azure/identity` runs its production path. Nothing of our own is replaced, only the clock is injected.
 */
export async function startInProcessApp(opts: { env?: Record<string, string>; simulator?: SimulatorOptions; throughStorageProxy?: boolean } = {}): Promise<InProcessApp> {
  const sim = await startSimulator(opts.simulator);
  const claimed = claimStorageAccount();
  // Through the proxy, a test can stop or lose the answer of a chosen storage request (withStorageGate).
  const proxy: StorageProxy | undefined = opts.throughStorageProxy ? await startStorageProxy(inject('azurite')) : undefined;
  const storage = proxy ? proxy.connectionString(/AccountName=([^;]+)/.exec(claimed)?.[1] ?? '') : claimed;
  const env = simulatorAppEnv(sim, storage, 'https://responders.example', opts.env);
  const saved = { IDENTITY_ENDPOINT: process.env['IDENTITY_ENDPOINT'], IDENTITY_HEADER: process.env['IDENTITY_HEADER'] };
  process.env['IDENTITY_ENDPOINT'] = sim.identityEndpoint;
  process.env['IDENTITY_HEADER'] = sim.identityHeader;
  const restoreEnv = () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = v;
      }
    }
  };
  const clock = { now: Date.now() };
  let deps: Deps;
  try {
    deps = await buildDeps(loadConfig(env), { now: () => clock.now });
  } catch (err) {
    restoreEnv();
    await sim.stop();
    await proxy?.stop();
    throw err;
  }
  const inv: Invocation = { id: 'test-invocation', log: SILENT };
  return {
    sim,
    deps,
    clock,
    inv,
    async containDemoAgent() {
      const intake = await acceptAlert(deps, parseAlert(JSON.parse(INCIDENT) as unknown), INCIDENT, undefined);
      await runCase(deps, deps.planners, { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) }, inv);
      return intake.caseId;
    },
    async contain(incident) {
      sim.state.putIncident(incident.seed);
      const raw = JSON.stringify(incident.trigger);
      const intake = await acceptAlert(deps, parseAlert(incident.trigger), raw, undefined);
      await runCase(deps, deps.planners, { caseId: intake.caseId, ...(intake.hint ? { hint: intake.hint } : {}) }, inv);
      return intake.caseId;
    },
    async drainQueue() {
      const queue = await deps.storage.queue(QUEUES.containment);
      let processed = 0;
      for (let round = 0; round < 20; round++) {
        const { receivedMessageItems: items } = await queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 60 });
        if (items.length === 0) {
          return processed;
        }
        for (const item of items) {
          await processCaseMessage(deps, JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as unknown, inv);
          await queue.deleteMessage(item.messageId, item.popReceipt);
          processed++;
        }
      }
      throw new Error('the containment queue did not drain in 20 rounds');
    },
    async queuedMessages() {
      const queue = await deps.storage.queue(QUEUES.containment);
      // A peek shows at most 32 messages: with more queued, a count taken from it could miss the one a test looks for.
      const peeked = await queue.peekMessages({ numberOfMessages: 32 });
      if (peeked.peekedMessageItems.length === 32) {
        throw new Error('32 or more messages queued: drain the queue before counting what a step queued');
      }
      return peeked.peekedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as Record<string, unknown>);
    },
    async withStorageGate(gate, fn) {
      if (!proxy) {
        throw new Error('withStorageGate needs an app started throughStorageProxy');
      }
      proxy.setGate(gate);
      try {
        return await fn();
      } finally {
        proxy.setGate(undefined);
      }
    },
    async approval(id) {
      const stored = await deps.approvals.get(id, 'approval');
      if (!stored) {
        throw new Error(`no approval ${id}`);
      }
      return stored.value;
    },
    async stop() {
      restoreEnv();
      await sim.stop();
      await proxy?.stop();
    },
  };
}
