import type { Config } from '../config';
import { getDeps } from '../deps';
import { version } from '../version';
import { authStatus, type AuthStatus } from '../auth/auth-settings';

export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  mode: Config['RESPONDER_MODE'];
  storage: 'reachable' | 'unreachable';
  /** Whether signed-in people and callers can be verified; when `off`, approvals and releases are refused. */
  auth: AuthStatus;
}

/** What `GET /health` reports; storage is checked with one cheap list call. */
export async function getHealth(config: Config): Promise<Health> {
  const deps = await getDeps();
  const reachable = await deps.storage.ping();
  return { status: reachable ? 'ok' : 'degraded', version, mode: config.RESPONDER_MODE, storage: reachable ? 'reachable' : 'unreachable', auth: authStatus(config) };
}
