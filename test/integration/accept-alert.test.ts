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
  it('queues a new case whose creation was stored but whose answer was lost (answered as a repeat of itself)', async () => {
    const [agent] = await generateAgents(app, { agents: 1 });
    const incident = incidentNaming(11, [{ id: agent ?? '', name: 'Generated agent' }]);
    // The case's transaction leaves first (the audit row waits one turn of the event loop to batch).
    const accepted = await postLosingAnswer(incident.trigger, (req) => req.method === 'POST' && req.shape === '/$batch');
    expect(accepted).toMatchObject({ status: 200, enqueue: true });
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
