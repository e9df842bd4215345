import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { azuriteConnectionString, type AzuritePorts } from './azurite';

export interface StorageRequest {
  service: 'blob' | 'queue' | 'table';
  method: string;
  /** Path without the account segment and query, ids elided: `PUT /containment/messages`, `POST /$batch`, `GET /cases()`. */
  shape: string;
  startedAt: number;
  endedAt: number;
  status: number;
}

/**
 * What the gate decides for a request about to be forwarded: let it through; drop it (connection destroyed, storage
 * never sees it); lose its answer (storage does it, then the connection is destroyed before the answer is sent:
 * what a caller sees when the network fails on the way back, and why a retried write may meet its own row); or hold
 * its answer until `answerAfter` (called once storage has answered) settles, so the app acts on an answer that went
 * stale meanwhile.
 */
export type GateDecision = 'forward' | 'drop' | 'lose-answer' | { answerAfter: () => Promise<unknown> };
/** `path` is the request's path as sent (account, keys and ids kept, decoded, no query), to stop the request of one row. */
export type StorageGate = (req: { service: StorageRequest['service']; method: string; shape: string; path: string; write: boolean }) => Promise<GateDecision>;

export interface StorageProxyOptions {
  /** Added before each request is forwarded: what a round trip to Azure Storage in the region costs. */
  latencyMs?: number;
  /** Consulted before each request (the chaos tests stop the app at a chosen storage write). */
  gate?: StorageGate;
}

export interface StorageProxy {
  /** Ports to hand to the app instead of Azurite's. */
  ports: AzuritePorts;
  requests: StorageRequest[];
  connectionString(account: string): string;
  setGate(gate: StorageGate | undefined): void;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A reverse proxy in front of Azurite's three services: logs every storage round trip of the app in order and
 * timed, can add a fixed latency to each (loopback Azurite costs about a millisecond, in-region Azure Storage
 * several), and can stop a chosen request. Shared Key signatures do not cover the host, so forwarding the path and
 * headers unchanged keeps requests valid.
 */
export async function startStorageProxy(target: AzuritePorts, options: StorageProxyOptions = {}): Promise<StorageProxy> {
  const requests: StorageRequest[] = [];
  const servers: Server[] = [];
  let gate = options.gate;
  const listen = async (service: StorageRequest['service'], port: number): Promise<number> => {
    const server = createServer((req, res) => {
      const startedAt = Date.now();
      const method = req.method ?? 'GET';
      const shape = shapeOf(req.url ?? '/');
      void (async () => {
        if (options.latencyMs) {
          await sleep(options.latencyMs);
        }
        const decision = gate ? await gate({ service, method, shape, path: pathOf(req.url ?? '/'), write: method !== 'GET' && method !== 'HEAD' }) : 'forward';
        if (decision === 'drop') {
          res.destroy();
          return;
        }
        const upstream = request({ host: '127.0.0.1', port, method, path: req.url, headers: req.headers }, (up) => {
          up.on('end', () => {
            requests.push({ service, method, shape, startedAt, endedAt: Date.now(), status: up.statusCode ?? 0 });
            if (decision === 'lose-answer') {
              res.destroy();
            }
          });
          if (decision === 'lose-answer') {
            up.resume();
            return;
          }
          if (typeof decision === 'object') {
            const body: Buffer[] = [];
            up.on('data', (chunk: Buffer) => body.push(chunk));
            up.on('end', () => {
              void decision
                .answerAfter()
                .catch(() => undefined)
                .then(() => {
                  res.writeHead(up.statusCode ?? 502, up.headers);
                  res.end(Buffer.concat(body));
                });
            });
            return;
          }
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        upstream.on('error', () => res.destroy());
        req.pipe(upstream);
      })();
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
    setGate(next) {
      gate = next;
    },
    stop: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}

function pathOf(url: string): string {
  const path = url.split('?')[0] ?? '/';
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
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
