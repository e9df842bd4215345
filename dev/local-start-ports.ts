/** Where `npm start` listens, on 127.0.0.1 only. Fixed by default, so the README's commands work as written. */
export interface LocalStartPorts {
  app: number;
  simulator: number;
  azuriteBlob: number;
  azuriteQueue: number;
  azuriteTable: number;
}

/** Each port, the variable that moves it, its default (Azurite's own defaults for storage) and what listens there. */
export const LOCAL_START_PORTS: Readonly<Record<keyof LocalStartPorts, { env: string; fallback: number; what: string }>> = {
  app: { env: 'PORT', fallback: 7071, what: 'the app (local Functions host)' },
  simulator: { env: 'SIMULATOR_PORT', fallback: 7072, what: 'the tenant simulator' },
  azuriteBlob: { env: 'AZURITE_BLOB_PORT', fallback: 10000, what: 'Azurite blob' },
  azuriteQueue: { env: 'AZURITE_QUEUE_PORT', fallback: 10001, what: 'Azurite queue' },
  azuriteTable: { env: 'AZURITE_TABLE_PORT', fallback: 10002, what: 'Azurite table' },
};

/** Reads the ports from the environment; a bad value throws one message naming the variable. */
export function localStartPorts(env: Record<string, string | undefined>): LocalStartPorts {
  const entries = Object.entries(LOCAL_START_PORTS).map(([key, { env: name, fallback }]) => {
    const raw = env[name]?.trim();
    const port = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new Error(`${name} must be a port number (1-65535), got "${raw ?? ''}"`);
    }
    return [key, port] as const;
  });
  return Object.fromEntries(entries) as unknown as LocalStartPorts;
}
