import { createServer } from 'node:net';

/**
 * Asks the OS for a port nobody listens on. The port is released before it is returned, so another process could
 * take it in between; callers that spawn servers should be ready to retry, but in practice the window is tiny.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('Could not determine a free port'))));
    });
  });
}
