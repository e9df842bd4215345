import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { azuriteConnectionString, type AzuritePorts } from '../dev/azurite';

export interface StorageRequest {
  service: 'blob' | 'queue' | 'table';
  method: string;
  /** Path without the account segment and query, ids elided: `PUT /containment/messages`, `POST /$batch`, `GET /cases()`. */
  shape: string;
  startedAt: number;
  endedAt: number;
  status: number;
}

export interface StorageTap {
  /** Ports to hand to the app instead of Azurite's. */
  ports: AzuritePorts;
  requests: StorageRequest[];
  connectionString(account: string): string;
  stop(): Promise<void>;
}

/**
 * A logging reverse proxy in front of Azurite's three services: the app's storage round trips, in order and
 * timed, without instrumenting the app. Used only for the anatomy of a containment, never for the timed runs
 * (the extra hop costs a fraction of a millisecond per request). Shared Key signatures do not cover the host,
 * so forwarding the path and headers unchanged keeps requests valid.
 */
export async function startStorageTap(target: AzuritePorts): Promise<StorageTap> {
  const requests: StorageRequest[] = [];
  const servers: Server[] = [];
  const listen = async (service: StorageRequest['service'], port: number): Promise<number> => {
    const server = createServer((req, res) => {
      const startedAt = Date.now();
      const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on('end', () => requests.push({ service, method: req.method ?? 'GET', shape: shapeOf(req.url ?? '/'), startedAt, endedAt: Date.now(), status: up.statusCode ?? 0 }));
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const ports: AzuritePorts = {
    blobPort: await listen('blob', target.blobPort),
    queuePort: await listen('queue', target.queuePort),
    tablePort: await listen('table', target.tablePort),
  };
  return {
    ports,
    requests,
    connectionString: (account) => azuriteConnectionString(ports, account),
    stop: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); })));
    },
  };
}

/** `/acct/cases(PartitionKey='…',RowKey='…')?…` → `/cases(…)`; GUIDs and keys elided so shapes group. */
function shapeOf(url: string): string {
  const path = url.split('?')[0] ?? '/';
  const withoutAccount = path.replace(/^\/[^/]+/, '');
  return withoutAccount
    .replace(/\(.*\)/, '(…)')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '{id}')
    .replace(/\/messages\/[^/]+$/, '/messages/{id}');
}
