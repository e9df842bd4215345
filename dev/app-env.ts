import { randomBytes } from 'node:crypto';
import { DEMO } from './simulator/demo-ids';
import { SIM_AUDIT_DCR } from './simulator/log-ingestion-routes';

export interface SimulatorEndpoints {
  url: string;
  identityEndpoint: string;
  identityHeader: string;
  /** The simulator's Teams Workflows webhook, where approval cards go. */
  teamsWebhookUrl?: string;
  /** The simulated tenant's OpenID issuer (discovery, signing keys, signed tokens). */
  openIdIssuer?: string;
}

/**
 * The local app registration App Service Authentication signs people in with (its client id is the audience of
 * every token the app accepts), and the demo playbook's managed identity, which calls the intake with an access
 * token for `api://<client id>`.
 */
export const LOCAL_AUTH = {
  clientId: 'a0000000-0000-4000-8000-0000000000c1',
  playbook: { objectId: 'b0a70000-0000-4000-8000-000000000001', appId: 'b0a7a000-0000-4000-8000-000000000001' },
} as const;

/**
 * The app settings that point the app at the tenant simulator and a storage account, as `npm start` and the
 * end-to-end tests run it. The app reads them exactly as it reads app settings in Azure: the managed
 * identity endpoint variables are the ones App Service sets, so `@azure/identity` runs its production path.
 */
export function simulatorAppEnv(sim: SimulatorEndpoints, storage: string, publicBaseUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  const users = [
    ...DEMO.approvers.map((id, i) => ({ id, upn: DEMO.approverUpns[i], name: `Approver ${i + 1} (${DEMO.approverUpns[i]})` })),
    { id: DEMO.human, upn: DEMO.humanUpn, name: `Dana Sponsor (${DEMO.humanUpn}, sponsor of the demo agents)` },
  ];
  // As on App Service: the platform sets these when its Authentication module is on, and only then. A test may
  // turn the app's side on without the emulation in front (WEBSITE_AUTH_ENABLED=True), as when the app is
  // reached around Easy Auth: client-sent headers then reach it unfiltered.
  const easyAuthOn = (overrides['LOCAL_DEV_EASY_AUTH'] ?? 'true') === 'true' || overrides['WEBSITE_AUTH_ENABLED']?.toLowerCase() === 'true';
  const auth: Record<string, string> = easyAuthOn && sim.openIdIssuer
    ? { WEBSITE_AUTH_ENABLED: 'True', WEBSITE_AUTH_CLIENT_ID: LOCAL_AUTH.clientId, WEBSITE_AUTH_OPENID_ISSUER: sim.openIdIssuer }
    : {};
  return {
    AzureWebJobsStorage: storage,
    IDENTITY_ENDPOINT: sim.identityEndpoint,
    IDENTITY_HEADER: sim.identityHeader,
    GRAPH_ENDPOINT: sim.url,
    ARM_ENDPOINT: sim.url,
    LOG_ANALYTICS_ENDPOINT: sim.url,
    RESPONDER_MODE: 'enforce',
    TICKET_PROVIDER: 'servicenow',
    SERVICENOW_INSTANCE_URL: sim.url,
    SERVICENOW_USERNAME: 'responder',
    SERVICENOW_PASSWORD: 'dev-password',
    PUBLIC_BASE_URL: publicBaseUrl,
    APPROVAL_SIGNING_KEY: randomBytes(32).toString('base64'),
    APPROVERS: [DEMO.approvers[0], DEMO.approvers[1], DEMO.approverGroup].join(','),
    APPROVAL_MAIL_SENDER: DEMO.mailboxUpn,
    SENTINEL_WORKSPACES: `${DEMO.workspace.subscriptionId}/${DEMO.workspace.resourceGroup}/${DEMO.workspace.workspaceName}`,
    // Enforce takes alerts from named playbooks only: the demo playbook's managed identity.
    INTAKE_ALLOWED_CALLERS: LOCAL_AUTH.playbook.objectId,
    ...(sim.teamsWebhookUrl ? { TEAMS_WEBHOOK_URL: sim.teamsWebhookUrl } : {}),
    // The audit pipeline: rows go to the simulator's data collection endpoint (GET /_sim/ingested lists them).
    AUDIT_INGESTION_ENDPOINT: sim.url,
    AUDIT_DCR_IMMUTABLE_ID: SIM_AUDIT_DCR.immutableId,
    AUDIT_STREAM_NAME: SIM_AUDIT_DCR.stream,
    LOCAL_DEV_EASY_AUTH: 'true',
    LOCAL_DEV_USERS: JSON.stringify(users),
    ...auth,
    ...overrides,
  };
}
