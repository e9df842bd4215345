import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../shared/errors';
import { claimStep, runStep, StepBusyError, type StepContext, type StepSpec } from '../../shared/plans/step-runner';
import { CaseStore } from '../../shared/store/case-store';
import type { CaseRecord } from '../../shared/store/case-model';
import { createStorage } from '../../shared/store/storage';
import { claimStorageAccount } from '../helpers/storage-account';

/** Connection strings need no token; anything asking for one is a bug in the test. */
const noCredential: TokenCredential = { getToken: () => Promise.reject(new Error('no token in this test')) };

const spec: StepSpec = { stepId: 'oid:a9e00000-0000-4000-8000-000000000001|disable', targetKey: 'oid:a9e00000-0000-4000-8000-000000000001', action: 'disable', description: 'Disable the agent' };
const LEASE = 60_000;

describe('step runner on Azure Tables (Azurite)', () => {
  let store: CaseStore;
  let caseId: string;
  let clock: number;
  const ctx = (owner: string, extra: Partial<StepContext> = {}): StepContext => ({ store, caseId, owner, leaseMs: LEASE, now: () => clock, ...extra });

  /** A side effect that counts how often it ran. */
  function effect(result: () => Promise<{ detail?: string; requestIds?: string[] }> = () => Promise.resolve({ detail: 'done', requestIds: ['req-1'] })) {
    const counter = { runs: 0, run: () => (counter.runs++, result()) };
    return counter;
  }

  beforeAll(async () => {
    store = await CaseStore.open(createStorage({ AzureWebJobsStorage: claimStorageAccount() }, noCredential));
  });
  beforeEach(async () => {
    caseId = randomUUID();
    clock = Date.UTC(2026, 10, 20, 9, 0, 0);
    const now = new Date(clock).toISOString();
    const record: CaseRecord = { caseId, kind: 'containment', source: 'incident', createdAt: now, updatedAt: now, status: 'running', mode: 'enforce', title: 'test', severity: 'High', dedupeKey: `test:${caseId}`, requestedBy: 'playbook', rejected: [] };
    await store.create(record, []);
  });

  it('runs a step once and skips it on every later run', async () => {
    const side = effect();
    const first = await runStep(ctx('worker-a'), spec, side.run);
    expect(first).toMatchObject({ state: 'done', attempts: 1, requestIds: ['req-1'], detail: 'done' });
    const again = await runStep(ctx('worker-b'), spec, side.run);
    expect(again.state).toBe('done');
    expect(side.runs).toBe(1);
    expect((await store.getStep(caseId, spec.stepId))?.value).toMatchObject({ state: 'done', attempts: 1 });
  });

  it('refuses a step another live worker holds, saying how long its lease lasts', async () => {
    const claim = await claimStep(ctx('worker-a'), spec);
    expect('step' in claim).toBe(true);
    clock += 10_000;
    const side = effect();
    const err: unknown = await runStep(ctx('worker-b'), spec, side.run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepBusyError);
    expect((err as StepBusyError).retryAfterMs).toBe(LEASE - 10_000);
    expect(side.runs).toBe(0);
    expect((await store.getStep(caseId, spec.stepId))?.value).toMatchObject({ state: 'running', leaseOwner: 'worker-a' });
  });

  it('takes over a step whose lease expired (its worker crashed) and runs it', async () => {
    await claimStep(ctx('crashed-worker'), spec);
    clock += LEASE + 1;
    const side = effect();
    const step = await runStep(ctx('worker-b'), spec, side.run);
    expect(step).toMatchObject({ state: 'done', attempts: 2, leaseOwner: 'worker-b' });
    expect(side.runs).toBe(1);
  });

  it('gives a step back after a transient failure, so the next run executes it', async () => {
    const throttled = new UpstreamError({ service: 'Graph', httpStatus: 429, transient: true, requestId: 'req-429', upstreamCode: 'TooManyRequests', message: 'Graph answered 429' });
    const failing = effect(() => Promise.reject(throttled));
    await expect(runStep(ctx('worker-a'), spec, failing.run)).rejects.toBe(throttled);
    expect((await store.getStep(caseId, spec.stepId))?.value).toMatchObject({ state: 'pending', errorCode: 'TooManyRequests', requestIds: ['req-429'] });
    expect((await store.getStep(caseId, spec.stepId))?.value.leaseOwner).toBeUndefined();

    const side = effect();
    const step = await runStep(ctx('worker-b'), spec, side.run);
    expect(step).toMatchObject({ state: 'done', attempts: 2 });
    expect(side.runs).toBe(1);
  });

  it('fails a step for good on a permanent error, keeping the code and request id, and never runs it again', async () => {
    const denied = new UpstreamError({ service: 'Graph', httpStatus: 403, transient: false, requestId: 'req-403', upstreamCode: 'Authorization_RequestDenied', message: 'Missing application permission: AgentIdentity.EnableDisable.All' });
    const failing = effect(() => Promise.reject(denied));
    const step = await runStep(ctx('worker-a'), spec, failing.run);
    expect(step).toMatchObject({ state: 'failed', errorCode: 'Authorization_RequestDenied', requestIds: ['req-403'] });
    expect(step.errorMessage).toContain('AgentIdentity.EnableDisable.All');
    const side = effect();
    expect((await runStep(ctx('worker-b'), spec, side.run)).state).toBe('failed');
    expect(side.runs).toBe(0);
  });

  it('records a bug in the side effect as a failed step without leaking its message', async () => {
    const step = await runStep(ctx('worker-a'), spec, () => Promise.reject(new TypeError('secret-bearing internal detail')));
    expect(step).toMatchObject({ state: 'failed', errorCode: 'InternalError', errorMessage: 'Unexpected error (see logs)' });
  });

  it('executes the side effect once when several workers run the same step at the same time', async () => {
    const side = effect(async () => {
      await new Promise((r) => setTimeout(r, 50));
      return { detail: 'done' };
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => runStep(ctx(`worker-${i}`), spec, side.run)));
    expect(side.runs).toBe(1);
    for (const o of outcomes) {
      if (o.status === 'rejected') {
        expect(o.reason).toBeInstanceOf(StepBusyError);
      } else {
        expect(o.value.state).toBe('done');
      }
    }
    expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
    expect((await store.getStep(caseId, spec.stepId))?.value).toMatchObject({ state: 'done', attempts: 1 });
  });

  it('keeps renewing the lease of a step that runs longer than the lease', async () => {
    let renewed: () => void = () => undefined;
    const lease = 10_000;
    const slow = effect(async () => {
      // Past the first lease: only renewals keep other workers out now.
      clock += lease + 5_000;
      await new Promise<void>((r) => (renewed = r));
      return { detail: 'slow but done' };
    });
    const running = runStep(ctx('worker-a', { leaseMs: lease, renewEveryMs: 20 }), spec, slow.run);
    const start = clock;
    for (;;) {
      const stored = await store.getStep(caseId, spec.stepId);
      if ((stored?.value.leaseUntil ?? 0) > start + lease) {
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await expect(runStep(ctx('worker-b', { leaseMs: lease }), spec, effect().run)).rejects.toBeInstanceOf(StepBusyError);
    renewed();
    expect(await running).toMatchObject({ state: 'done', detail: 'slow but done' });
    const stored = (await store.getStep(caseId, spec.stepId))?.value;
    expect(stored?.state).toBe('done');
    expect(stored?.leaseUntil).toBeUndefined();
  });
});
