import { expect } from 'vitest';
import { TEAMS_QUEUE } from '../../shared/store/teams-card-queue';
import { runCase } from '../../shared/plans/run-case';
import type { InProcessApp } from './in-process-app';
import { postIncident, targetStatuses } from './incident-runs';
import { generateAgents } from './lifecycle-tenant';

// Where the approvers hear of a request, as the simulator and the queue hold it: the tests of approval announcements
// count what reached each channel.

export const ticketNotesWith = (app: InProcessApp, text: string): string[] =>
  app.sim.state.tickets.servicenow.flatMap((t) => t.journal.map((j) => String(j.value))).filter((n) => n.includes(text));

export const commentsWith = (app: InProcessApp, text: string): unknown[] => app.sim.state.allComments().filter((c) => JSON.stringify(c).includes(text));

export const mailsWith = (app: InProcessApp, text: string): unknown[] => app.sim.state.mail.filter((m) => JSON.stringify(m.message).includes(text));

/** The Teams cards queued for `approvalId`, by event. */
export async function cardsFor(app: InProcessApp, approvalId: string): Promise<string[]> {
  const queue = await app.deps.storage.queue(TEAMS_QUEUE);
  const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems
    .map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { approvalId: string; event: string })
    .filter((m) => m.approvalId === approvalId)
    .map((m) => m.event);
}

/** A case about a new agent, run to the end: the agent contained. */
export async function containedAgent(app: InProcessApp, n: number): Promise<{ agent: string; caseId: string }> {
  const [agent = ''] = await generateAgents(app, { agents: 1 });
  const message = await postIncident(app, n, agent);
  await runCase(app.deps, app.deps.planners, message, app.inv);
  expect(await targetStatuses(app, message.caseId)).toEqual(['contained']);
  return { agent, caseId: message.caseId };
}
