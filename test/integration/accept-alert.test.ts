import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlert } from '../../shared/alerts/parse-alert';
import { acceptAlert } from '../../shared/intake/accept-alert';
import { incidentNaming } from '../helpers/incident-naming';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents } from '../helpers/lifecycle-tenant';
import { loseFirstAnswer } from '../helpers/lose-answer';

let app: InProcessApp;

beforeAll(async () => {
  app = await startInProcessApp({ throughStorageProxy: true });
});
afterAll(async () => {
  await app?.stop();
});

/** Posts `trigger` through the intake with the answer of the first table write `matches` picks lost. */
async function postLosingAnswer(trigger: Record<string, unknown>, matches: (req: { service: string; method: string; shape: string }) => boolean) {
  const { gate, lost } = loseFirstAnswer((req) => req.service === 'table' && matches(req));
  const result = await app.withStorageGate(gate, () => acceptAlert(app.deps, parseAlert(trigger), JSON.stringify(trigger), undefined));
  expect(lost()).toBe(1);
  return result;
}

const actions = async (caseId: string, action: string) => (await app.deps.audit.list(caseId)).filter((e) => e.action === action);

describe('the intake when the answer of a stored write is lost (the Storage SDK sends it again and meets its own row)', () => {
  it('answers 202 with its hint a new case whose creation was stored but whose answer was lost (its own row, not a repeat)', async () => {
    const [agent] = await generateAgents(app, { agents: 1 });
    const incident = incidentNaming(11, [{ id: agent ?? '', name: 'Generated agent' }]);
    // The case's transaction leaves first (the audit row waits one turn of the event loop to batch).
    const accepted = await postLosingAnswer(incident.trigger, (req) => req.method === 'POST' && req.shape === '/$batch');
    expect(accepted).toMatchObject({ status: 202, enqueue: true, added: 1, hint: { targets: [{ ref: { objectId: agent } }] } });
    expect((await app.deps.cases.load(accepted.caseId))?.targets.map((t) => [t.objectId, t.status])).toEqual([[agent, 'pending']]);
    expect(await actions(accepted.caseId, 'intake.received')).toHaveLength(1);
  });

  it('counts and queues a target an update adds when the answer of its insert is lost', async () => {
    const [first, second] = await generateAgents(app, { agents: 2 });
    const created = incidentNaming(12, [{ id: first ?? '', name: 'First agent' }]);
    const updated = incidentNaming(12, [{ id: first ?? '', name: 'First agent' }, { id: second ?? '', name: 'Second agent' }]);
    const accepted = await acceptAlert(app.deps, parseAlert(created.trigger), JSON.stringify(created.trigger), undefined);
    expect(accepted.status).toBe(202);
    const update = await postLosingAnswer(updated.trigger, (req) => req.method === 'POST' && req.shape === '/cases');
    expect(update).toMatchObject({ status: 200, caseId: accepted.caseId, enqueue: true, added: 1, hint: { targets: [{ ref: { objectId: second } }] } });
    expect(await actions(accepted.caseId, 'intake.update')).toHaveLength(1);
    expect((await app.deps.cases.load(accepted.caseId))?.targets.map((t) => t.objectId).sort()).toEqual([first, second].sort());
  });
});

describe('the intake when the same body is posted twice in the same millisecond', () => {
  it('creates the case once: one post is answered 202, the other as its repeat', async () => {
    const [agent] = await generateAgents(app, { agents: 1 });
    const incident = incidentNaming(13, [{ id: agent ?? '', name: 'Generated agent' }]);
    // The clock does not move between the two posts: the two records are identical but for the post that wrote them.
    const answers = await Promise.all([1, 2].map(() => acceptAlert(app.deps, parseAlert(incident.trigger), JSON.stringify(incident.trigger), undefined)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 202]);
  });

  it('counts a target an update adds once, however many identical updates land together', async () => {
    const [first, second] = await generateAgents(app, { agents: 2 });
    const created = incidentNaming(14, [{ id: first ?? '', name: 'First agent' }]);
    const updated = incidentNaming(14, [{ id: first ?? '', name: 'First agent' }, { id: second ?? '', name: 'Second agent' }]);
    const accepted = await acceptAlert(app.deps, parseAlert(created.trigger), JSON.stringify(created.trigger), undefined);
    // The three inserts of the new target wait for one another, so all three read the case before any lands.
    let waiting = 0;
    let release: () => void = () => undefined;
    const together = new Promise<void>((resolve) => (release = resolve));
    const gate = async (req: { service: string; method: string; shape: string }): Promise<'forward'> => {
      if (req.service === 'table' && req.method === 'POST' && req.shape === '/cases') {
        waiting += 1;
        if (waiting === 3) {
          release();
        }
        await Promise.race([together, new Promise((r) => setTimeout(r, 3_000))]);
      }
      return 'forward';
    };
    const updates = await app.withStorageGate(gate, () => Promise.all([1, 2, 3].map(() => acceptAlert(app.deps, parseAlert(updated.trigger), JSON.stringify(updated.trigger), undefined))));
    expect(waiting).toBe(3);
    expect(updates.map((u) => u.added).sort()).toEqual([0, 0, 1]);
    expect(await actions(accepted.caseId, 'intake.update')).toHaveLength(1);
  });
});
