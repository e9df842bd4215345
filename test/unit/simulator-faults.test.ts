import { beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../dev/simulator/start-simulator';
import { useSimulator } from '../helpers/use-simulator';

const basic = (user: string, secret: string): string => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
const snAuth = basic('responder', 'dev-password');
const jiraAuth = basic('responder@contoso.example', 'dev-jira-token');
const adf = (text: string) => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] });

/** What a client sees: the status, or how the call failed (a reset, or its own time-out while the simulator hangs). */
async function outcome(p: Promise<Response>): Promise<number | 'reset' | 'timeout'> {
  try {
    const res = await p;
    await res.text();
    return res.status;
  } catch (err) {
    return err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'reset';
  }
}

describe('simulator faults, ServiceNow journal and Jira consistency', () => {
  const fixture = useSimulator();
  let sim: Simulator;

  beforeEach(() => {
    sim = fixture.sim;
    sim.setKnobs({ jiraSearchLagMs: 0 });
  });

  const createSnow = (correlationId: string, signal?: AbortSignal): Promise<Response> =>
    fetch(`${sim.url}/api/now/table/incident`, {
      method: 'POST',
      headers: { authorization: snAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ short_description: 'Agent contained', correlation_id: correlationId }),
      signal,
    });

  it('drops the answer after the route committed its effect, and logs it as such', async () => {
    sim.addFault({ method: 'POST', path: '^/api/now/table/incident$', drop: true, afterCommit: true, times: 1 });
    expect(await outcome(createSnow('case-1'))).toBe('reset');
    expect(sim.state.tickets.servicenow.map((r) => r.fields.correlation_id)).toEqual(['case-1']);
    expect(sim.calls.filter((c) => c.service === 'servicenow').map((c) => [c.status, c.fault])).toEqual([[0, 'drop-after-commit']]);
    // The rule is spent: the next call is answered.
    expect(await outcome(createSnow('case-2'))).toBe(201);
  });

  it('drops the answer before the route runs when the fault is not after commit', async () => {
    sim.addFault({ method: 'POST', path: '^/api/now/table/incident$', drop: true, times: 1 });
    expect(await outcome(createSnow('case-1'))).toBe('reset');
    expect(sim.state.tickets.servicenow).toHaveLength(0);
  });

  it('hangs after commit until the client gives up', async () => {
    sim.addFault({ method: 'POST', path: '^/api/now/table/incident$', hang: true, afterCommit: true, times: 1 });
    expect(await outcome(createSnow('case-1', AbortSignal.timeout(300)))).toBe('timeout');
    expect(sim.state.tickets.servicenow).toHaveLength(1);
    expect(sim.calls.at(-1)).toMatchObject({ status: 0, fault: 'hang-after-commit' });
  });

  it('replaces the answer with a status after commit (the write happened, the caller is told 500)', async () => {
    sim.addFault({ method: 'POST', path: '^/api/now/table/incident$', status: 500, afterCommit: true, times: 1 });
    expect(await outcome(createSnow('case-1'))).toBe(500);
    expect(sim.state.tickets.servicenow).toHaveLength(1);
    expect(sim.calls.at(-1)).toMatchObject({ status: 500, fault: 'status-after-commit' });
  });

  it('matches a rule to its service only', async () => {
    sim.addFault({ path: '.*', service: 'jira', status: 503, times: 5 });
    expect(await outcome(createSnow('case-1'))).toBe(201);
    const jira = await fetch(`${sim.url}/rest/api/3/issue/SEC-1`, { headers: { authorization: jiraAuth } });
    expect(jira.status).toBe(503);
  });

  it('refuses a rule that says neither a status, nor drop, nor hang', () => {
    expect(() => sim.addFault({ path: '.*', times: 1 })).toThrow(/status, drop or hang/);
    expect(() => sim.addFault({ path: '.*', drop: true, hang: true, times: 1 })).toThrow(/exclude/);
  });

  it('serves the Journal Entries table: one sys_journal_field record per work note, read-only', async () => {
    const created = (await (await createSnow('case-1')).json()) as { result: { sys_id: string } };
    const sysId = created.result.sys_id;
    for (const note of ['first note [ar-note-aaa]', 'second note [ar-note-bbb]']) {
      await fetch(`${sim.url}/api/now/table/incident/${sysId}`, {
        method: 'PATCH',
        headers: { authorization: snAuth, 'content-type': 'application/json' },
        body: JSON.stringify({ work_notes: note }),
      });
    }
    const query = (q: string) =>
      fetch(`${sim.url}/api/now/table/sys_journal_field?${new URLSearchParams({ sysparm_query: q, sysparm_fields: 'sys_id,element,element_id,value' })}`, { headers: { authorization: snAuth } });
    const found = (await (await query(`element_id=${sysId}^element=work_notes^valueLIKEar-note-bbb`)).json()) as { result: Record<string, string>[] };
    expect(found.result).toHaveLength(1);
    expect(found.result[0]).toMatchObject({ element: 'work_notes', element_id: sysId, value: 'second note [ar-note-bbb]' });
    const none = (await (await query(`element_id=${sysId}^element=work_notes^valueLIKEar-note-ccc`)).json()) as { result: unknown[] };
    expect(none.result).toEqual([]);
    const insert = await fetch(`${sim.url}/api/now/table/sys_journal_field`, {
      method: 'POST',
      headers: { authorization: snAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ element_id: sysId, element: 'work_notes', value: 'forged' }),
    });
    expect(insert.status).toBe(403);
  });

  it("hides a new Jira issue from JQL search for the configured lag, while GET by key sees it at once", async () => {
    sim.setKnobs({ jiraSearchLagMs: 60_000 });
    const created = await fetch(`${sim.url}/rest/api/3/issue`, {
      method: 'POST',
      headers: { authorization: jiraAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { project: { key: 'SEC' }, summary: 's', issuetype: { name: 'Task' }, labels: ['case-9'] } }),
    });
    const { key } = (await created.json()) as { key: string };
    const search = async () =>
      ((await (await fetch(`${sim.url}/rest/api/3/search/jql?jql=${encodeURIComponent('labels = "case-9"')}`, { headers: { authorization: jiraAuth } })).json()) as { issues: unknown[] }).issues;
    expect(await search()).toEqual([]);
    expect((await fetch(`${sim.url}/rest/api/3/issue/${key}`, { headers: { authorization: jiraAuth } })).status).toBe(200);
    sim.setKnobs({ jiraSearchLagMs: 0 });
    expect(await search()).toHaveLength(1);
  });

  it('keeps Jira comment properties and returns them only through comment/list?expand=properties', async () => {
    await fetch(`${sim.url}/rest/api/3/issue`, {
      method: 'POST',
      headers: { authorization: jiraAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { project: { key: 'SEC' }, summary: 's', issuetype: { name: 'Task' } } }),
    });
    const post = (body: unknown) =>
      fetch(`${sim.url}/rest/api/3/issue/SEC-1/comment`, { method: 'POST', headers: { authorization: jiraAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ body: adf('x'), properties: [{ key: '' }] })).status).toBe(400);
    const made = (await (await post({ body: adf('note'), properties: [{ key: 'agent-responders.note', value: { key: 'k-1' } }] })).json()) as { id: string; properties?: unknown };
    expect(made.properties).toBeUndefined();
    const listed = (await (await fetch(`${sim.url}/rest/api/3/issue/SEC-1/comment`, { headers: { authorization: jiraAuth } })).json()) as { total: number; comments: { id: string; properties?: unknown }[] };
    expect(listed.total).toBe(1);
    expect(listed.comments[0]?.properties).toBeUndefined();
    const expanded = (await (
      await fetch(`${sim.url}/rest/api/3/comment/list?expand=properties`, { method: 'POST', headers: { authorization: jiraAuth, 'content-type': 'application/json' }, body: JSON.stringify({ ids: [Number(made.id)] }) })
    ).json()) as { values: { id: string; properties: unknown[] }[] };
    expect(expanded.values.map((c) => [c.id, c.properties])).toEqual([[made.id, [{ key: 'agent-responders.note', value: { key: 'k-1' } }]]]);
    const property = await fetch(`${sim.url}/rest/api/3/comment/${made.id}/properties/agent-responders.note`, { headers: { authorization: jiraAuth } });
    expect(await property.json()).toEqual({ key: 'agent-responders.note', value: { key: 'k-1' } });
  });
});
