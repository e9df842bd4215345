import type { TokenCredential } from '@azure/identity';
import { UpstreamError } from '../errors';
import { networkToUpstreamError } from './to-upstream-error';

/**
 * Per-attempt `authorization` headers for {@link httpJson}: the managed identity's token for `scope`, fetched
 * under the attempt's abort signal so a slow identity endpoint counts against the attempt's time-out. A failed
 * token fetch is transient (the identity endpoint is a service like any other); `service` names it in messages.
 */
export function bearerHeaders(credential: TokenCredential, scope: string, service: string): (signal: AbortSignal) => Promise<Record<string, string>> {
  return async (signal) => {
    let token;
    try {
      token = await credential.getToken(scope, { abortSignal: signal });
    } catch (err) {
      throw networkToUpstreamError(`${service} token`, err);
    }
    if (!token) {
      throw new UpstreamError({ service, transient: true, message: `no token for ${service}` });
    }
    return { authorization: `Bearer ${token.token}` };
  };
}
