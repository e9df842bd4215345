import { describe, expect, it } from 'vitest';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { sharedTokenCredential } from '../../../shared/identity/shared-token-credential';

/** A credential that counts fetches and hands out tokens valid for `lifetimeMs` from `clock()`. */
function countingCredential(clock: () => number, lifetimeMs: number, failFirst = false) {
  let calls = 0;
  const credential: TokenCredential = {
    async getToken() {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      if (failFirst && calls === 1) {
        throw new Error('endpoint down');
      }
      return { token: `t${calls}`, expiresOnTimestamp: clock() + lifetimeMs } satisfies AccessToken;
    },
  };
  return { credential, calls: () => calls };
}

describe('sharedTokenCredential', () => {
  it('shares one fetch among concurrent callers and reuses the token', async () => {
    let now = 0;
    const inner = countingCredential(() => now, 60 * 60_000);
    const shared = sharedTokenCredential(inner.credential, () => now);
    const tokens = await Promise.all([1, 2, 3, 4, 5, 6].map(() => shared.getToken('https://graph.microsoft.com/.default')));
    expect(tokens.map((t) => t?.token)).toEqual(['t1', 't1', 't1', 't1', 't1', 't1']);
    now = 30 * 60_000;
    expect((await shared.getToken('https://graph.microsoft.com/.default'))?.token).toBe('t1');
    expect(inner.calls()).toBe(1);
  });

  it('fetches a new token shortly before the old one expires, and per scope', async () => {
    let now = 0;
    const inner = countingCredential(() => now, 60 * 60_000);
    const shared = sharedTokenCredential(inner.credential, () => now);
    await shared.getToken('https://graph.microsoft.com/.default');
    await shared.getToken('https://management.azure.com/.default');
    now = 56 * 60_000;
    expect((await shared.getToken('https://graph.microsoft.com/.default'))?.token).toBe('t3');
    expect(inner.calls()).toBe(3);
  });

  it('does not keep a failed fetch: the next caller tries again', async () => {
    const inner = countingCredential(() => 0, 60 * 60_000, true);
    const shared = sharedTokenCredential(inner.credential, () => 0);
    await expect(shared.getToken('s')).rejects.toThrow('endpoint down');
    expect((await shared.getToken('s'))?.token).toBe('t2');
  });
});
