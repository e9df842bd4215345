import { startBenchStack, type StorageAccounts } from './bench-stack';
import { buildStorm } from './build-storm';
import { generateAgents } from './contain-runner';
import { mapLimit } from './map-limit';
import { playbookHeaders } from './playbook-headers';
import { postAlert } from './post-alert';
import { cpuBetween, processCpu } from './process-cpu';
import { summarize, type Summary } from './summarize';

export interface IntakeOnlyOptions {
  account: string;
  alerts: number;
  agents: number;
  duplicates: number;
  concurrency: number;
}

export interface IntakeOnlyResult {
  alerts: number;
  concurrency: number;
  wallMs: number;
  alertsPerSecond: number;
  latencyMs: Summary;
  /** Posts answered 202 (a new case) or 200 (a repeat). */
  accepted: number;
  cpuSeconds: Record<string, number>;
  /** CPU milliseconds an alert, by process. */
  cpuMsPerAlert: Record<string, number>;
}

/** The responder's queue trigger, turned off the way an operator would in Azure (an app setting). */
const RESPONDER_OFF = { 'AzureWebJobs.containment-queue.Disabled': 'true' };

/**
 * The storm's posts with the responder turned off: what the intake alone accepts on this machine, and what each
 * alert costs the host and Azurite. The storm measures the intake sharing the cores with the responder; this is its
 * ceiling here (the cases stay queued, untouched).
 */
export async function benchIntakeOnly(storage: StorageAccounts, opts: IntakeOnlyOptions, log: (line: string) => void): Promise<IntakeOnlyResult> {
  const stack = await startBenchStack({ storage, account: opts.account, env: RESPONDER_OFF });
  try {
    const agents = await generateAgents(stack.sim, opts.agents);
    const { incidents, posts } = buildStorm(agents, opts.alerts, opts.duplicates);
    incidents.forEach((i) => stack.sim.state.putIncident(i.seed));
    const bodies = incidents.map((i) => JSON.stringify(i.triggerBody));
    const headers = await playbookHeaders(stack.sim.url);
    // One post first: the token, the tables and the JIT are cold-start costs, not intake costs.
    const warm = await postAlert(stack.host.url, bodies[0] as string, headers);
    if (warm.status !== 202) {
      throw new Error(`intake warm-up answered ${warm.status}\n${stack.host.output().slice(-3000)}`);
    }
    const rest = posts.filter((i) => i !== 0);
    const cpuAtStart = processCpu();
    const start = Date.now();
    const outcomes = await mapLimit(rest, opts.concurrency, (i) => postAlert(stack.host.url, bodies[i] as string, headers));
    const wallMs = Date.now() - start;
    const cpuSeconds = cpuBetween(cpuAtStart, processCpu());
    const cpuMsPerAlert = Object.fromEntries(Object.entries(cpuSeconds).map(([role, s]) => [role, Math.round((s * 1000 * 100) / rest.length) / 100]));
    const result: IntakeOnlyResult = {
      alerts: rest.length,
      concurrency: opts.concurrency,
      wallMs,
      alertsPerSecond: Math.round((rest.length / (wallMs / 1000)) * 10) / 10,
      latencyMs: summarize(outcomes.map((o) => o.latencyMs)),
      accepted: outcomes.filter((o) => o.status === 202 || o.status === 200).length,
      cpuSeconds,
      cpuMsPerAlert,
    };
    log(`intake alone: ${result.alertsPerSecond} alerts/s, ${result.accepted}/${rest.length} accepted`);
    return result;
  } finally {
    await stack.stop();
  }
}
