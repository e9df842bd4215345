import { createServer, type Server } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../dev/simulator/start-simulator';
import { UpstreamError } from '../../../shared/errors';
import { httpJson, type HttpJsonOptions, type HttpJsonRequest } from '../../../shared/net/http-json';
import { defaultRetryPolicy } from '../../../shared/net/retry-policy';
import { rejectionOf, useSimulator } from '../../helpers/use-simulator';

/**
 * Classification and time-outs of one outbound JSON call, over real HTTP against the tenant simulator (ServiceNow's
 * Table API: basic auth, no token), with fault rules standing in for a failing service.
 */
describe('httpJson against a failing service', () => {
  const fixture = useSimulator();
  let sim: Simulator;
  const auth = { authorization: `Basic ${Buffer.from('responder:dev-password').toString('base64')}` };
  /** No sleeping between attempts; time-outs long enough for a loaded machine (a route that hangs costs one of them). */
  const fast: HttpJsonOptions = { retry: { ...defaultRetryPolicy, attemptTimeoutMs: 1_000, budgetMs: 10_000 }, retryHooks: { sleep: () => Promise.resolve() } };

  beforeEach(() => {
    sim = fixture.sim;
  });

  const list = (): HttpJsonRequest => ({ method: 'GET', url: `${sim.url}/api/now/table/incident`, headers: auth });
  const create = (): HttpJsonRequest => ({ method: 'POST', url: `${sim.url}/api/now/table/incident`, headers: auth, body: { short_description: 'x' } });
  const attempts = () => sim.calls.filter((c) => c.service === 'servicenow').length;

  const failure = (request: HttpJsonRequest, options = fast): Promise<UpstreamError> => rejectionOf(httpJson('ServiceNow', request, options), UpstreamError);

  it('times out an attempt that never gets an answer, retries it, and fails transient within the budget', async () => {
    sim.addFault({ method: 'GET', path: '^/api/now/table/incident$', hang: true, times: 100 });
    const err = await failure(list(), { ...fast, retry: { ...defaultRetryPolicy, attemptTimeoutMs: 150, budgetMs: 1_000 } });
    expect(err).toMatchObject({ transient: true, upstreamCode: 'Timeout' });
    expect(attempts()).toBeGreaterThanOrEqual(2);
    expect(attempts()).toBeLessThanOrEqual(defaultRetryPolicy.maxAttempts);
    expect(sim.calls.every((c) => c.fault === 'hang')).toBe(true);
  });

  it('treats every 5xx (500 included), 408 and 429 as transient and retries them, bounded', async () => {
    for (const status of [500, 502, 503, 504, 408, 429]) {
      sim.reset();
      sim.addFault({ method: 'GET', path: '^/api/now/table/incident$', status, times: 100 });
      const err = await failure(list());
      expect(err, `status ${status}`).toMatchObject({ transient: true, httpStatus: status });
      expect(attempts(), `status ${status}`).toBe(defaultRetryPolicy.maxAttempts);
    }
  });

  it('treats any other 4xx as an answer: permanent, sent once', async () => {
    for (const status of [400, 401, 403, 404, 409, 422]) {
      sim.reset();
      sim.addFault({ method: 'GET', path: '^/api/now/table/incident$', status, times: 1 });
      const err = await failure(list());
      expect(err, `status ${status}`).toMatchObject({ transient: false, httpStatus: status });
      expect(attempts(), `status ${status}`).toBe(1);
    }
  });

  it('retries a read after a dropped connection and returns its answer', async () => {
    sim.addFault({ method: 'GET', path: '^/api/now/table/incident$', drop: true, times: 2 });
    const res = await httpJson<{ result: unknown[] }>('ServiceNow', list(), fast);
    expect(res.body.result).toEqual([]);
    expect(sim.calls.map((c) => c.status)).toEqual([0, 0, 200]);
  });

  it('does not resend a create whose answer was lost (dropped, timed out or 5xx): its outcome is unknown', async () => {
    for (const fault of [{ drop: true }, { hang: true }, { status: 500 }]) {
      sim.reset();
      sim.addFault({ method: 'POST', path: '^/api/now/table/incident$', afterCommit: true, times: 5, ...fault });
      const err = await failure(create());
      expect(err.transient, JSON.stringify(fault)).toBe(true);
      expect(attempts(), JSON.stringify(fault)).toBe(1);
      expect(sim.state.tickets.servicenow, JSON.stringify(fault)).toHaveLength(1);
    }
  });

  it('resends a create that was throttled, since a 429 proves nothing was written', async () => {
    sim.addFault({ method: 'POST', path: '^/api/now/table/incident$', status: 429, times: 1 });
    const res = await httpJson('ServiceNow', create(), fast);
    expect(res.status).toBe(201);
    expect(sim.calls.map((c) => c.status)).toEqual([429, 201]);
    expect(sim.state.tickets.servicenow).toHaveLength(1);
  });

  it('classifies a refused connection as unsent, and resends even a create', async () => {
    // A port that was listening a moment ago and is closed now refuses connections.
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let tries = 0;
    const err = await failure({ method: 'POST', url: `http://127.0.0.1:${port}/x`, body: {} }, { ...fast, retryHooks: { sleep: () => (tries++, Promise.resolve()) } });
    expect(err).toMatchObject({ transient: true, upstreamCode: 'ConnectFailed' });
    expect(tries).toBe(defaultRetryPolicy.maxAttempts - 1);
  });
});
