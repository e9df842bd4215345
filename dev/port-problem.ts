import { createServer } from 'node:net';

/**
 * Why `host:port` cannot be listened on (`'is already in use'`, `'is not permitted'`), or undefined when it can;
 * found by listening on it and closing at once.
 */
export function portProblem(port: number, host = '127.0.0.1'): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        resolve('is already in use');
      } else if (err.code === 'EACCES') {
        resolve('is not permitted');
      } else {
        reject(err);
      }
    });
    server.listen(port, host, () => server.close(() => resolve(undefined)));
  });
}
