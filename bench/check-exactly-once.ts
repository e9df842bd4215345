import type { Simulator } from '../dev/simulator/start-simulator';
import type { PostOutcome } from './post-alert';
import { tallyUpstreamCalls } from './tally-upstream-calls';

export interface StormCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What `GET /api/cases/{id}` shows of a case, as far as the checks need it. */
export interface CaseView {
  caseId: string;
  status: string;
  targets: { key: string; objectId?: string; status: string; [field: string]: unknown }[];
}

/** An agent whose disable Graph acknowledged more than once, with the times (simulator clock). */
export interface RepeatedDisable {
  agent: string;
  acknowledgedAt: number[];
}

/**
 * Nothing lost, nothing done twice, read from what the outside world saw: every post accepted, every agent
 * disabled and confirmed compromised in the simulator, each agent contained by one case only, one disable
 * acknowledged per agent (a second one only when the crash fell between Graph's answer and the step being
 * recorded), one ticket per case that acted, nothing poisoned.
 */
export function checkExactlyOnce(input: {
  agents: readonly string[];
  outcomes: readonly PostOutcome[];
  cases: readonly CaseView[];
  sim: Simulator;
  poisoned: number;
  repeatedDisables: readonly RepeatedDisable[];
  /** When the killed host was dead and its replacement spawned (epoch ms), if there was a crash. */
  respawnAt: number | undefined;
}): StormCheck[] {
  const { agents, outcomes, cases, sim, poisoned, repeatedDisables, respawnAt } = input;
  const checks: StormCheck[] = [];
  const check = (name: string, ok: boolean, detail: string): void => {
    checks.push({ name, ok, detail });
  };

  const unanswered = outcomes.filter((o) => o.status !== 202 && o.status !== 200);
  check('every alert accepted (202, or 200 for a repeat)', unanswered.length === 0, unanswered.length === 0 ? `${outcomes.length} accepted` : `${unanswered.length} not accepted, e.g. ${unanswered[0]?.status}`);

  const enabled = agents.filter((id) => sim.state.get(id)?.accountEnabled !== false);
  check(`all ${agents.length} agents disabled`, enabled.length === 0, enabled.length === 0 ? 'accountEnabled false for all' : `${enabled.length} still enabled`);

  const disables = tallyUpstreamCalls(sim.calls).graph.disable.ok;
  // A repeat is the crash's doing when the first acknowledgement went to the old host (logged before the new one
  // existed; a request in flight at the kill may be answered just after it) and the second to the new one.
  const unexplained = repeatedDisables.filter((r) => respawnAt === undefined || r.acknowledgedAt.length !== 2 || !((r.acknowledgedAt[0] ?? 0) < respawnAt && (r.acknowledgedAt[1] ?? 0) >= respawnAt));
  check(
    `exactly ${agents.length} disables`,
    disables === agents.length + repeatedDisables.length && unexplained.length === 0,
    repeatedDisables.length === 0
      ? `${disables} acknowledged`
      : `${disables} acknowledged; ${repeatedDisables.length} agent(s) disabled twice, ${unexplained.length} not explained by the crash (e.g. ${(unexplained[0] ?? repeatedDisables[0])?.agent})`,
  );

  const containedBy = new Map<string, string[]>();
  for (const c of cases) {
    for (const t of c.targets) {
      if (t.status === 'contained' && t.objectId) {
        containedBy.set(t.objectId, [...(containedBy.get(t.objectId) ?? []), c.caseId]);
      }
    }
  }
  const twice = [...containedBy].filter(([, ids]) => ids.length > 1);
  const never = agents.filter((id) => !containedBy.has(id));
  // For the first agent contained twice: each case's view of it and when Graph acknowledged each disable, to see why.
  const evidence = twice[0]
    ? ` [${twice[0][1].map((caseId) => JSON.stringify(cases.find((c) => c.caseId === caseId)?.targets.find((t) => t.objectId === twice[0]?.[0]))).join(' | ')}; disables acknowledged at ${JSON.stringify(repeatedDisables.find((r) => r.agent === twice[0]?.[0])?.acknowledgedAt ?? [])}, host respawned at ${respawnAt ?? 'never'}]`
    : '';
  check('each agent contained by exactly one case', twice.length === 0 && never.length === 0, `${containedBy.size} agents contained; ${twice.length} by two or more cases${twice[0] ? ` (e.g. ${twice[0][0]} by ${twice[0][1].join(', ')})` : ''}; ${never.length} by none${evidence}`);

  const unfinished = cases.filter((c) => c.status !== 'done');
  check('every case done', unfinished.length === 0, unfinished.length === 0 ? `${cases.length} cases done` : `${unfinished.length} not done: ${[...new Set(unfinished.map((c) => c.status))].join(', ')} (e.g. ${unfinished[0]?.caseId})`);

  const ticketsByCase = new Map<string, number>();
  for (const t of sim.state.tickets.servicenow) {
    const key = typeof t.fields['correlation_id'] === 'string' ? t.fields['correlation_id'] : '';
    ticketsByCase.set(key, (ticketsByCase.get(key) ?? 0) + 1);
  }
  const wrongTickets = cases.filter((c) => {
    const acted = c.targets.some((t) => t.status !== 'joined');
    return (ticketsByCase.get(`agent-responders:${c.caseId}`) ?? 0) !== (acted ? 1 : 0);
  });
  const strayTickets = [...ticketsByCase.keys()].filter((k) => !cases.some((c) => `agent-responders:${c.caseId}` === k));
  check('one ticket per case that acted, none twice', wrongTickets.length === 0 && strayTickets.length === 0, `${sim.state.tickets.servicenow.length} tickets; ${wrongTickets.length} case(s) with a wrong count${wrongTickets[0] ? ` (e.g. ${wrongTickets[0].caseId}: ${ticketsByCase.get(`agent-responders:${wrongTickets[0].caseId}`) ?? 0})` : ''}; ${strayTickets.length} for unknown cases`);

  const unconfirmed = agents.filter((id) => sim.state.get(id)?.riskState !== 'confirmedCompromised');
  check('risk confirmed compromised for every agent', unconfirmed.length === 0, `${agents.length - unconfirmed.length} confirmed`);

  check('nothing in the poison queue', poisoned === 0, `${poisoned} poison message(s)`);
  return checks;
}
