import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnLocalHost, type SpawnedLocalHost } from '../../dev/host/spawn-local-host';
import { claimStorageAccount } from '../helpers/storage-account';

const appDir = join(__dirname, '..', 'fixtures', 'host-app');
const users = [
  { id: '11111111-1111-1111-1111-111111111111', upn: 'ana@contoso.test', name: 'Ana Analyst' },
  { id: '22222222-2222-2222-2222-222222222222', upn: 'sam@contoso.test', name: 'Sam Supervisor' },
];

let host: SpawnedLocalHost;
let recordDir: string;
let queues: QueueServiceClient;

beforeAll(async () => {
  const connectionString = claimStorageAccount();
  queues = QueueServiceClient.fromConnectionString(connectionString);
  recordDir = mkdtempSync(join(tmpdir(), 'local-host-records-'));
  host = await spawnLocalHost({
    appDir,
    env: {
      AzureWebJobsStorage: connectionString,
      FIXTURE_RECORD_DIR: recordDir,
      DOOMED_QUEUE: 'doomed-items',
      TICK_SCHEDULE: '0 0 3 1 1 *',
      LOCAL_HOST_DISABLE_TIMERS: 'true',
      LOCAL_DEV_EASY_AUTH: 'true',
      LOCAL_DEV_USERS: JSON.stringify(users),
    },
  });
});

afterAll(async () => {
  await host?.stop();
  rmSync(recordDir, { recursive: true, force: true });
});

interface Recorded {
  at: number;
  [key: string]: unknown;
}

function records(name: string): Recorded[] {
  try {
    return readFileSync(join(recordDir, `${name}.jsonl`), 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Recorded);
  } catch {
    return [];
  }
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`Condition not met within ${timeoutMs} ms.\nHost output:\n${host.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const base64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

describe('local host: HTTP triggers', () => {
  it('routes a template with parameters and returns status, headers, cookies and JSON from the handler', async () => {
    const res = await fetch(`${host.url}/api/greet/ana/42?q=hi`);

    expect(res.status).toBe(201);
    expect(res.headers.get('x-greeting')).toBe('hello');
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('set-cookie')).toMatch(/^seen=1; Path=\/; HttpOnly/);
    expect(await res.json()).toMatchObject({ name: 'ana', id: '42', q: 'hi', principal: null, user: null });
    expect(host.output()).toMatch(/\[greet\] \[[0-9a-f-]{36}\] greeting ana/);
  });

  it('matches routes case-insensitively, honours optional parameters and their constraints', async () => {
    const withoutId = await fetch(`${host.url}/API/Greet/bob`);
    expect(withoutId.status).toBe(201);
    expect(await withoutId.json()).toMatchObject({ name: 'bob', id: null });

    expect((await fetch(`${host.url}/api/greet/bob/not-a-number`)).status).toBe(404);
  });

  it('answers 404 for unknown routes and 405 for a method the function does not accept', async () => {
    expect((await fetch(`${host.url}/api/nothing-here`)).status).toBe(404);
    const wrongMethod = await fetch(`${host.url}/api/greet/ana`, { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
  });

  it('uses the function name as the default route and hands the raw body to the handler', async () => {
    const res = await fetch(`${host.url}/api/echo`, { method: 'PUT', body: 'päyload' });

    expect(res.status).toBe(200);
    expect(await res.text()).toBe('PUT:päyload');
  });

  it('turns an unhandled error into a generic 500 and logs the details', async () => {
    const res = await fetch(`${host.url}/api/boom`);

    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('secret detail');
    expect(host.output()).toContain("Executed 'Functions.boom' (Failed");
    expect(host.output()).toContain('secret detail that must not leak');
  });
});

describe('local host: queue output failures', () => {
  it('fails the HTTP invocation with a 500 when a queue output cannot be written', async () => {
    const res = await fetch(`${host.url}/api/badOutput`, { method: 'POST' });

    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('should not be seen');
    expect(host.output()).toContain("Invalid queue name 'Not_A_Valid_Queue'");
  });
});

describe('local host: dev Easy Auth', () => {
  it('strips client-supplied principal headers', async () => {
    const forged = Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [] })).toString('base64');
    const res = await fetch(`${host.url}/api/greet/mallory`, {
      headers: { 'x-ms-client-principal': forged, 'x-ms-client-principal-id': 'evil' },
    });

    expect(await res.json()).toMatchObject({ principal: null, user: null });
  });

  it('signs a picked user in with a cookie and injects the principal headers App Service would', async () => {
    const page = await fetch(`${host.url}/.auth/login/dev?post_login_redirect_uri=/app`);
    expect(await page.text()).toContain('Sam Supervisor');

    const login = await fetch(`${host.url}/.auth/login/dev`, {
      method: 'POST',
      body: new URLSearchParams({ userId: users[1]!.id, post_login_redirect_uri: 'https://evil.test/' }),
      redirect: 'manual',
    });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe('/');
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(login.headers.get('set-cookie')).toContain('HttpOnly');

    const res = await fetch(`${host.url}/api/greet/sam`, { headers: { cookie } });
    const body = (await res.json()) as { principal: string; user: { id: string; username: string; identityProvider: string } };
    const principal = JSON.parse(Buffer.from(body.principal, 'base64').toString('utf8')) as { claims: unknown[] };
    expect(principal.claims).toContainEqual({
      typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
      val: users[1]!.id,
    });
    expect(body.user).toMatchObject({ type: 'AppService', id: users[1]!.id, username: 'sam@contoso.test', identityProvider: 'aad' });

    const me = await fetch(`${host.url}/.auth/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    const tampered = await fetch(`${host.url}/.auth/me`, { headers: { cookie: `${cookie}x` } });
    expect(tampered.status).toBe(401);
  });
});

describe('local host: queue triggers', () => {
  it('retries a failing message after the visibility timeout and reports dequeueCount as a number', async () => {
    await queues.getQueueClient('flaky-items').sendMessage(base64({ order: 7 }));

    const attempts = await waitFor(() => {
      const seen = records('flaky');
      return seen.length >= 3 ? seen : undefined;
    });
    expect(attempts.map((a) => a['dequeueCount'])).toEqual([1, 2, 3]);
    expect(attempts.every((a) => a['type'] === 'number')).toBe(true);
    expect(attempts[0]?.['message']).toEqual({ order: 7 });
    // The third attempt succeeded, so the message is gone rather than poisoned.
    await waitFor(async () => {
      const peeked = await queues.getQueueClient('flaky-items').peekMessages();
      return peeked.peekedMessageItems.length === 0 ? true : undefined;
    });
    const poison = await queues.getQueueClient('flaky-items-poison').peekMessages();
    expect(poison.peekedMessageItems).toHaveLength(0);
  });

  it('moves a message that fails maxDequeueCount times to <queue>-poison with its original content', async () => {
    const original = base64({ doomed: true });
    await queues.getQueueClient('doomed-items').sendMessage(original);

    const poisoned = await waitFor(async () => {
      const peeked = await queues.getQueueClient('doomed-items-poison').peekMessages();
      return peeked.peekedMessageItems[0];
    });
    expect(poisoned.messageText).toBe(original);
    const left = await queues.getQueueClient('doomed-items').peekMessages();
    expect(left.peekedMessageItems).toHaveLength(0);
    expect(host.output()).toContain("Moving message to queue 'doomed-items-poison'");
  });

  it('writes queue outputs before answering and wakes the queue trigger at once', async () => {
    // Let the handoff listener back off to its maximum polling interval first.
    await new Promise((r) => setTimeout(r, 1_500));
    const res = await fetch(`${host.url}/api/jobs`, { method: 'POST', body: JSON.stringify({ job: 1 }) });
    const answeredAt = Date.now();
    expect(res.status).toBe(202);

    const handled = await waitFor(() => {
      const seen = records('handoff');
      return seen.length >= 2 ? seen : undefined;
    });
    expect(handled.map((h) => h['message'])).toEqual(expect.arrayContaining([{ job: 1 }, { job: 1, copy: true }]));
    expect(Math.min(...handled.map((h) => h.at)) - answeredAt).toBeLessThan(500);
  });
});

describe('local host: timers and admin API', () => {
  it('runs a timer through POST /admin/functions/{name} with the timer object the runtime sends', async () => {
    const res = await fetch(`${host.url}/admin/functions/tick?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: '' }),
    });
    expect(res.status).toBe(200);

    const [run] = records('tick');
    expect(run?.['timer']).toMatchObject({ isPastDue: false, schedule: { adjustForDST: true } });
    expect(run?.['timer']).toHaveProperty('scheduleStatus.next');
  });

  it('answers 202 without waiting, and 500 with the error when waiting on a failing run', async () => {
    const accepted = await fetch(`${host.url}/admin/functions/tick`, { method: 'POST', body: '{}' });
    expect(accepted.status).toBe(202);

    const failed = await fetch(`${host.url}/admin/functions/doomed?wait=true`, {
      method: 'POST',
      body: JSON.stringify({ input: 'by hand' }),
    });
    expect(failed.status).toBe(500);
    expect(await failed.text()).toContain('always fails: "by hand"');
  });

  it('lists functions and reports the host as running', async () => {
    const status = await fetch(`${host.url}/admin/host/status`);
    expect(await status.json()).toEqual({ state: 'Running' });

    const list = (await (await fetch(`${host.url}/admin/functions`)).json()) as { name: string }[];
    expect(list).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'greet', trigger: 'httpTrigger', route: 'greet/{name}/{id:int?}' }),
        expect.objectContaining({ name: 'doomed', trigger: 'queueTrigger', queueName: 'doomed-items' }),
        expect.objectContaining({ name: 'tick', trigger: 'timerTrigger', schedule: '0 0 3 1 1 *' }),
      ]),
    );
  });
});

describe('local host: a function turned off by AzureWebJobs.<name>.Disabled', () => {
  let off: SpawnedLocalHost;
  const queueName = 'doomed-while-disabled';

  beforeAll(async () => {
    off = await spawnLocalHost({
      appDir,
      env: {
        AzureWebJobsStorage: claimStorageAccount(),
        FIXTURE_RECORD_DIR: recordDir,
        DOOMED_QUEUE: queueName,
        TICK_SCHEDULE: '0 0 3 1 1 *',
        LOCAL_HOST_DISABLE_TIMERS: 'true',
        'AzureWebJobs.greet.Disabled': 'true',
        'AzureWebJobs.doomed.Disabled': '1',
      },
    });
  });
  afterAll(async () => {
    await off?.stop();
  });

  it('has no route and no queue listener, as in Azure, while the admin API can still run it', async () => {
    expect((await fetch(`${off.url}/api/greet/ana/1`)).status).toBe(404);
    expect((await fetch(`${off.url}/api/echo`, { method: 'POST', body: '{}' })).status).toBe(200);
    const queue = queues.getQueueClient(queueName);
    await queue.createIfNotExists();
    await queue.sendMessage(base64({ untouched: true }));
    await new Promise((r) => setTimeout(r, 1_500));
    const [waiting] = (await queue.peekMessages()).peekedMessageItems;
    expect(waiting?.dequeueCount).toBe(0);
    expect(off.output()).toContain("Function 'doomed' is disabled (AzureWebJobs.doomed.Disabled)");

    const byHand = await fetch(`${off.url}/admin/functions/doomed?wait=true`, { method: 'POST', body: JSON.stringify({ input: 'by hand' }) });
    expect(byHand.status).toBe(500);
    expect(await byHand.text()).toContain('always fails: "by hand"');
  });
});

// Last: stops the shared host.
describe('local host: shutdown', () => {
  it('drains for up to 5 s, then makes unfinished queue messages visible again and exits 0', async () => {
    await queues.getQueueClient('slow-items').sendMessage(base64({ slow: true }));
    await waitFor(() => (records('slow').length > 0 ? true : undefined));

    const stopping = Date.now();
    await host.stop();
    expect(Date.now() - stopping).toBeGreaterThanOrEqual(4_500);
    expect(host.exitCode()).toBe(0);
    expect(host.output()).toContain('Stopping with 1 invocation(s) still running');

    // Without the hand-back it would stay invisible for the whole lease (functionTimeout, 1 min here).
    const visible = await queues.getQueueClient('slow-items').peekMessages();
    expect(visible.peekedMessageItems[0]?.messageText).toBe(base64({ slow: true }));
  });
});
