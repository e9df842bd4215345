import { beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../dev/simulator/start-simulator';
import { UpstreamError } from '../../shared/errors';
import type { HttpJsonOptions } from '../../shared/net/http-json';
import { defaultRetryPolicy } from '../../shared/net/retry-policy';
import { JIRA_SEARCH_CONSISTENCY_WINDOW_MS, NOTE_KEY_PROPERTY, jiraTickets } from '../../shared/tickets/jira-tickets';
import { noteMarker } from '../../shared/tickets/note-marker';
import { SERVICENOW_WRITE_SETTLE_MS, serviceNowTickets } from '../../shared/tickets/servicenow-tickets';
import type { TicketProvider, TicketRequest } from '../../shared/tickets/ticket-provider';
import { webhookTickets } from '../../shared/tickets/webhook-tickets';
import { WritePendingError } from '../../shared/tickets/write-once';
import { rejectionOf, useSimulator } from '../helpers/use-simulator';

/**
 * Every ticket write succeeds at the ticket system and then loses its answer (the connection drops, the answer
 * never comes, or a 500 comes instead); the simulator's state must end with exactly one effect: one ticket per key,
 * one note per note key, one webhook delivery per idempotency key.
 */
describe('ticket writes that succeed and then lose their answer', () => {
  const fixture = useSimulator();
  let sim: Simulator;
  let clock: number;
  /** Short attempts, no sleeping, so a withheld answer costs a few hundred milliseconds. */
  const http: HttpJsonOptions = { retry: { ...defaultRetryPolicy, attemptTimeoutMs: 400, budgetMs: 3_000 }, retryHooks: { sleep: () => Promise.resolve() } };
  const request: TicketRequest = { key: 'agent-responders:case-1', title: 'Agent contained', text: 'The agent was disabled.', severity: 'High', caseId: 'case-1' };

  const serviceNow = (): TicketProvider => serviceNowTickets({ instanceUrl: sim.url, username: 'responder', password: 'dev-password', now: () => clock, http });
  const jira = (): TicketProvider =>
    jiraTickets({ baseUrl: sim.url, email: 'responder@contoso.example', apiToken: 'dev-jira-token', projectKey: 'SEC', issueType: 'Task', now: () => clock, http });
  const webhook = (): TicketProvider => webhookTickets({ url: `${sim.url}/webhook/tickets`, secret: 'dev-webhook-secret-0123456789', http });

  const pending = (p: Promise<unknown>): Promise<WritePendingError> => rejectionOf(p, WritePendingError);
  const posts = (service: string, path: RegExp) => sim.calls.filter((c) => c.service === service && c.method === 'POST' && path.test(c.path));

  beforeEach(() => {
    sim = fixture.sim;
    sim.setKnobs({ jiraSearchLagMs: 0 });
    clock = Date.now();
  });

  describe('ServiceNow', () => {
    const incidents = () => sim.state.tickets.servicenow.filter((r) => r.fields.correlation_id === request.key);

    for (const fault of [{ drop: true }, { hang: true }, { status: 500 }]) {
      it(`opens one incident when the create commits and then ${JSON.stringify(fault)} (looked up again at once)`, async () => {
        sim.addFault({ method: 'POST', path: '^/api/now/table/incident$', afterCommit: true, times: 1, ...fault });
        const ref = await serviceNow().open(request);
        expect(incidents()).toHaveLength(1);
        expect(ref).toEqual({ provider: 'servicenow', id: incidents()[0]?.fields.sys_id, number: incidents()[0]?.fields.number });
        expect(sim.calls.filter((c) => c.service === 'servicenow').map((c) => c.method)).toEqual(['GET', 'POST', 'GET']);
      });
    }

    it('looks the key up before every create attempt, across calls: a repeated open finds the incident', async () => {
      const first = await serviceNow().open(request);
      const again = await serviceNow().open(request);
      expect(again).toEqual(first);
      expect(incidents()).toHaveLength(1);
      expect(posts('servicenow', /incident$/)).toHaveLength(1);
    });

    it('waits out the settle window instead of creating again when an unanswered create left no trace yet', async () => {
      // Lost before the server acted: nothing to find, but the caller cannot know that.
      sim.addFault({ method: 'POST', path: '^/api/now/table/incident$', drop: true, times: 1 });
      const first = await pending(serviceNow().open(request));
      expect(first).toMatchObject({ transient: true, attemptedAt: clock, retryAfterMs: SERVICENOW_WRITE_SETTLE_MS });
      clock += SERVICENOW_WRITE_SETTLE_MS - 1;
      const second = await pending(serviceNow().open(request, { earlierAttemptAt: first.attemptedAt }));
      expect(second.retryAfterMs).toBe(1);
      expect(posts('servicenow', /incident$/)).toHaveLength(1);
      clock += 1;
      await serviceNow().open(request, { earlierAttemptAt: first.attemptedAt });
      expect(incidents()).toHaveLength(1);
      expect(posts('servicenow', /incident$/)).toHaveLength(2);
    });

    it("cannot be steered to another incident by a key that spells an encoded query ('^OR…')", async () => {
      const other = await serviceNow().open({ ...request, key: 'agent-responders:case-other' });
      const hostile = await serviceNow().open({ ...request, key: 'x^ORcorrelation_id=agent-responders:case-other' });
      expect(hostile.id).not.toBe(other.id);
      expect(sim.state.tickets.servicenow).toHaveLength(2);
      expect(await serviceNow().open({ ...request, key: 'x^ORcorrelation_id=agent-responders:case-other' })).toEqual(hostile);
    });

    it('takes a refused create (400) as an answer: permanent, not retried', async () => {
      sim.addFault({ method: 'POST', path: '^/api/now/table/incident$', status: 400, times: 1 });
      await expect(serviceNow().open(request)).rejects.toMatchObject({ transient: false, httpStatus: 400 });
      expect(posts('servicenow', /incident$/)).toHaveLength(1);
    });

    it('reads the incident back by its sys_id, and says when it is gone', async () => {
      const ref = await serviceNow().open(request);
      await expect(serviceNow().get(ref)).resolves.toEqual(ref);
      await expect(serviceNow().get({ provider: 'servicenow', id: '0'.repeat(32) })).resolves.toBeUndefined();
    });

    it('adds one work note per key when the PATCH commits and its answer is dropped, and a retried note is found in the journal', async () => {
      const ref = await serviceNow().open(request);
      sim.addFault({ method: 'PATCH', path: '^/api/now/table/incident/', drop: true, afterCommit: true, times: 1 });
      await serviceNow().addNote(ref, 'Agent released.', 'agent-responders:case-1:released');
      await serviceNow().addNote(ref, 'Agent released.', 'agent-responders:case-1:released');
      await serviceNow().addNote(ref, 'Agent contained again.', 'agent-responders:case-1:drift');
      const journal = incidents()[0]?.journal ?? [];
      expect(journal.map((j) => j.value)).toEqual([
        `Agent released.\n\n[${noteMarker('agent-responders:case-1:released')}]`,
        `Agent contained again.\n\n[${noteMarker('agent-responders:case-1:drift')}]`,
      ]);
      expect(sim.calls.filter((c) => c.method === 'PATCH')).toHaveLength(2);
    });

    it('refuses a note for a reference that is not a sys_id before sending anything', async () => {
      await expect(serviceNow().addNote({ provider: 'servicenow', id: 'x^ORactive=true' }, 'n', 'k')).rejects.toMatchObject({ transient: false, upstreamCode: 'InvalidTicketRef' });
      expect(sim.calls).toHaveLength(0);
    });
  });

  describe('Jira', () => {
    const issues = () => sim.state.tickets.jira;

    it('returns the created key at once and reads it back by key while search still lags', async () => {
      sim.setKnobs({ jiraSearchLagMs: 60_000 });
      const ref = await jira().open(request);
      expect(ref).toMatchObject({ provider: 'jira', number: 'SEC-1' });
      await expect(jira().get(ref)).resolves.toEqual(ref);
      await expect(jira().get({ provider: 'jira', id: '999', number: 'SEC-999' })).resolves.toBeUndefined();
    });

    it('does not create again until search has caught up with a create whose answer was lost', async () => {
      sim.setKnobs({ jiraSearchLagMs: 60_000 });
      sim.addFault({ method: 'POST', path: '^/rest/api/3/issue$', drop: true, afterCommit: true, times: 1 });
      const first = await pending(jira().open(request));
      expect(first.message).toMatch(/waiting for Jira search to catch up/);
      expect(first).toMatchObject({ transient: true, attemptedAt: clock, retryAfterMs: JIRA_SEARCH_CONSISTENCY_WINDOW_MS });
      // Retried inside the window: search still cannot see the issue, and nothing is created.
      clock += 30_000;
      const second = await pending(jira().open(request, { earlierAttemptAt: first.attemptedAt }));
      expect(second.retryAfterMs).toBe(JIRA_SEARCH_CONSISTENCY_WINDOW_MS - 30_000);
      expect(posts('jira', /\/issue$/)).toHaveLength(1);
      // Later the index has caught up: the retry finds the one issue.
      sim.setKnobs({ jiraSearchLagMs: 0 });
      clock += JIRA_SEARCH_CONSISTENCY_WINDOW_MS;
      const ref = await jira().open(request, { earlierAttemptAt: first.attemptedAt });
      expect(issues()).toHaveLength(1);
      expect(ref).toMatchObject({ number: issues()[0]?.key });
      expect(posts('jira', /\/issue$/)).toHaveLength(1);
    });

    it('adds one comment per note key when the comment commits and its answer is dropped', async () => {
      const ref = await jira().open(request);
      sim.addFault({ method: 'POST', path: '/comment$', drop: true, afterCommit: true, times: 1 });
      await jira().addNote(ref, 'Agent released.', 'agent-responders:case-1:released');
      await jira().addNote(ref, 'Agent released.', 'agent-responders:case-1:released');
      await jira().addNote(ref, 'Drift.', 'agent-responders:case-1:drift');
      const comments = issues()[0]?.comments ?? [];
      expect(comments.map((c) => c.properties)).toEqual([
        [{ key: NOTE_KEY_PROPERTY, value: { key: 'agent-responders:case-1:released' } }],
        [{ key: NOTE_KEY_PROPERTY, value: { key: 'agent-responders:case-1:drift' } }],
      ]);
      expect(posts('jira', /\/comment$/)).toHaveLength(2);
    });

    it('does not take a comment that merely mentions the key for the note (only the property counts)', async () => {
      const ref = await jira().open(request);
      issues()[0]?.comments.push({ id: '29999', body: { type: 'doc', version: 1, content: [] }, created: new Date().toISOString(), properties: [{ key: 'other', value: { key: 'k-1' } }] });
      await jira().addNote(ref, 'note', 'k-1');
      expect(issues()[0]?.comments).toHaveLength(2);
    });
  });

  describe('webhook', () => {
    it('delivers one ticket and one note per idempotency key when each POST commits and its answer is lost', async () => {
      sim.addFault({ method: 'POST', path: '^/webhook/tickets$', drop: true, afterCommit: true, times: 1 });
      const ref = await webhook().open(request);
      sim.addFault({ method: 'POST', path: '^/webhook/tickets$', hang: true, afterCommit: true, times: 1 });
      await webhook().addNote(ref, 'Agent released.', 'agent-responders:case-1:released');
      const deliveries = sim.state.tickets.webhook;
      expect(deliveries.map((d) => d.idempotencyKey)).toEqual([request.key, 'agent-responders:case-1:released']);
      expect(ref.id).toBe(deliveries[0]?.id);
      expect(posts('webhook', /tickets$/)).toHaveLength(4);
      await expect(webhook().get(ref)).resolves.toEqual(ref);
    });
  });

  it('gives up transient, never permanent, when a ticket system keeps failing', async () => {
    sim.addFault({ path: '.*', service: 'servicenow', status: 503, times: 100 });
    expect(await rejectionOf(serviceNow().open(request), UpstreamError)).toMatchObject({ transient: true });
  });
});
