import '../shared/telemetry/register-telemetry';
import { app } from '@azure/functions';
import { getConfig } from '../shared/config';
import { getDeps } from '../shared/deps';
import { consoleLogger } from '../shared/logger';
import { logGraphPermissions } from '../shared/permissions/log-graph-permissions';

/**
 * At start-up, say once which enabled features lack a Microsoft Graph permission (the same report as
 * `GET /api/health`), so a deployment without its grants is visible before the first incident.
 */
app.hook.appStart(() => {
  // Not awaited: a slow managed-identity endpoint must not hold up the host's start.
  void logGraphPermissions(() => getDeps(), getConfig, consoleLogger);
});
