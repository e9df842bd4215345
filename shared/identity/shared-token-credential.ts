import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

/** Refresh this long before expiry, so a token never expires between fetch and use. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Wraps a credential so that concurrent requests for the same scopes share one token fetch and reuse the
 * token until shortly before it expires. Without it a cold worker asks the managed-identity endpoint once
 * per concurrent Graph call (seen: 11 token calls for 6 simultaneous cases).
 */
export function sharedTokenCredential(inner: TokenCredential, now: () => number = Date.now): TokenCredential {
  const cache = new Map<string, Promise<AccessToken | null>>();
  return {
    getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      const key = (Array.isArray(scopes) ? scopes : [scopes]).join(' ');
      const cached = cache.get(key);
      if (cached) {
        return cached.then((token) => (token && token.expiresOnTimestamp - REFRESH_MARGIN_MS > now() ? token : refresh()));
      }
      return refresh();
      function refresh(): Promise<AccessToken | null> {
        const pending = inner.getToken(scopes, options).catch((err: unknown) => {
          cache.delete(key); // a failed fetch is retried by the next caller
          throw err;
        });
        cache.set(key, pending);
        return pending;
      }
    },
  };
}
