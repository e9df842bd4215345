import type { Simulator } from '../../dev/simulator/start-simulator';

/** An access token from the simulator's managed-identity endpoint, fetched directly (no MSAL cache in between). */
export async function simulatorToken(sim: Pick<Simulator, 'identityEndpoint' | 'identityHeader'>, resource = 'https://graph.microsoft.com'): Promise<string> {
  const res = await fetch(`${sim.identityEndpoint}?resource=${encodeURIComponent(resource)}&api-version=2019-08-01`, {
    headers: { 'X-IDENTITY-HEADER': sim.identityHeader },
  });
  if (res.status !== 200) {
    throw new Error(`the managed-identity endpoint answered ${res.status}: ${await res.text()}`);
  }
  return ((await res.json()) as { access_token: string }).access_token;
}
