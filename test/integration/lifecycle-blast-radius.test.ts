import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordTable } from '../../shared/store/record-table';
import { TABLES } from '../../shared/store/storage';
import type { TargetRecord } from '../../shared/store/case-model';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app';
import { generateAgents, lifecycleExpectations, sweep } from '../helpers/lifecycle-tenant';

describe('lifecycle sweep under the blast-radius limit', () => {
  let app: InProcessApp;
  let expected: ReturnType<typeof lifecycleExpectations>;
  beforeAll(async () => {
    // A wrong expiry tag rolled out to a whole fleet must not disable it at once: the hourly limit applies.
    app = await startInProcessApp({ env: { BLAST_RADIUS_PER_HOUR: '3' } });
    await generateAgents(app, { agents: 60, expiredFraction: 0.2, expiringFraction: 0, orphanFraction: 0 });
    expected = lifecycleExpectations(app);
    await sweep(app);
    await app.drainQueue();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('disables expired agents up to the limit and holds the rest for approval', async () => {
    const disabled = expected.expired.filter((id) => app.sim.state.get(id)?.accountEnabled === false);
    expect(expected.expired.length).toBeGreaterThan(5);
    expect(disabled).toHaveLength(3);
    const table = new RecordTable<TargetRecord>(await app.deps.storage.table(TABLES.cases));
    const held = (await table.query(`type eq 'target' and status eq 'held'`)).map((r) => r.value);
    expect(held).toHaveLength(expected.expired.length - 3);
    for (const t of held) {
      expect(t.reason).toMatch(/Blast-radius limit reached \(3 per rolling hour\)/);
      expect(t.approvalId).toMatch(/^[0-9a-f]{24}$/);
    }
  });
});
