import { LOCAL_AUTH } from '../dev/app-env';

/**
 * The headers the demo playbook's managed identity posts alerts with: an access token for the app that the tenant
 * simulator signs (the intake takes alerts only from INTAKE_ALLOWED_CALLERS, as a deployment should). Valid two
 * hours: longer than any benchmark run.
 */
export async function playbookHeaders(simUrl: string): Promise<Record<string, string>> {
  const res = await fetch(`${simUrl}/_sim/oidc/access-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ objectId: LOCAL_AUTH.playbook.objectId, appId: LOCAL_AUTH.playbook.appId, audience: `api://${LOCAL_AUTH.clientId}`, lifetimeSeconds: 7200 }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) {
    throw new Error(`the simulator issued no access token for the playbook: ${body.error_description ?? res.status}`);
  }
  return { 'content-type': 'application/json', authorization: `Bearer ${body.access_token}` };
}
