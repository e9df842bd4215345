import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLifecycleCase } from '../../shared/lifecycle/lifecycle-case';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents, ymd } from '../helpers/lifecycle-tenant';
import { loseFirstAnswer } from '../helpers/lose-answer';

let app: InProcessApp;

beforeAll(async () => {
  app = await startInProcessApp({ throughStorageProxy: true });
});
afterAll(async () => {
  await app?.stop();
});

describe('a lifecycle case whose creation was stored but whose answer was lost', () => {
  it('is queued at once (the disable of the expired agent does not wait for the stuck-case timer)', async () => {
    const [id = ''] = await generateAgents(app, { agents: 1 });
    const agent = { id, kind: 'agentIdentity' as const, odataType: '#microsoft.graph.agentIdentity', displayName: 'Expired agent' };
    const end = { date: ymd(app.clock.now - 86_400_000), from: 'attribute' as const };
    // The case and its target go out in one transaction: its answer is lost, the SDK's retry meets the case row.
    const { gate, lost } = loseFirstAnswer((req) => req.service === 'table' && req.method === 'POST' && req.shape === '/$batch');
    const result = await app.withStorageGate(gate, () => openLifecycleCase(app.deps, agent, 'expire', end, 'enforce', app.clock.now));
    expect(lost()).toBe(1);
    expect(result).toBe('created');
    const queued = await app.queuedMessages();
    expect(queued.map((m) => m['caseId'])).toHaveLength(1);
    expect((await app.deps.cases.getCase(String(queued[0]?.['caseId'])))?.status).toBe('received');
  });
});
