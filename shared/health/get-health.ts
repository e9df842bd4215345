import type { Config } from '../config';
import { getDeps } from '../deps';
import { version } from '../version';
import { checkGraphPermissions, type GraphPermissionReport } from '../permissions/check-graph-permissions';
import { enabledGraphFeatures } from '../permissions/graph-permission-table';
import { authStatus, type AuthStatus } from '../auth/auth-settings';

export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  mode: Config['RESPONDER_MODE'];
  storage: 'reachable' | 'unreachable';
  /** The enabled features whose Microsoft Graph application permission our own token lacks (names only). */
  graphPermissions: GraphPermissionReport;
  /** Whether signed-in people and callers can be verified; when `off`, approvals and releases are refused. */
  auth: AuthStatus;
  /** Whether the emergency stop holds every write, who set it and why (no secrets). */
  emergencyStop: { stopped: boolean; source?: string; reason?: string; at?: string };
}

/**
 * What `GET /health` reports: storage with one cheap list call, and the Graph permissions from the `roles` of our
 * own managed-identity token (cached by the credential, so no extra token call per request).
 */
export async function getHealth(config: Config): Promise<Health> {
  const deps = await getDeps();
  const [reachable, graphPermissions, stop] = await Promise.all([
    deps.storage.ping(),
    checkGraphPermissions(deps.credential, enabledGraphFeatures(config)),
    deps.stop.state().catch(() => ({ stopped: false, reason: 'the stop state could not be read' })),
  ]);
  return {
    status: reachable && graphPermissions.status !== 'missing' ? 'ok' : 'degraded',
    version,
    mode: config.RESPONDER_MODE,
    storage: reachable ? 'reachable' : 'unreachable',
    graphPermissions,
    auth: authStatus(config),
    emergencyStop: { stopped: stop.stopped, ...pickDefined({ source: 'source' in stop ? stop.source : undefined, reason: stop.reason, at: 'at' in stop ? stop.at : undefined }) },
  };
}

function pickDefined<T extends Record<string, string | undefined>>(values: T): Partial<Record<keyof T, string>> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<Record<keyof T, string>>;
}
