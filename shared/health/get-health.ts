import type { Config } from '../config';
import { getDeps } from '../deps';
import { version } from '../version';

export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  mode: Config['RESPONDER_MODE'];
  storage: 'reachable' | 'unreachable';
}

/** What `GET /health` reports; storage is checked with one cheap list call. */
export async function getHealth(config: Config): Promise<Health> {
  const deps = await getDeps();
  const reachable = await deps.storage.ping();
  return { status: reachable ? 'ok' : 'degraded', version, mode: config.RESPONDER_MODE, storage: reachable ? 'reachable' : 'unreachable' };
}
