import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleApp, DEPLOY_DIR } from './bundle-app';

/**
 * `npm run bundle`: builds the deployment package (dist/deploy) that `azd deploy` uploads and that `npm start`,
 * `func start` and the tests run.
 */
async function main(): Promise<void> {
  const root = resolve(__dirname, '..', '..', '..');
  const { dir, buildMs } = await bundleApp(root);
  let bytes = 0;
  let files = 0;
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const s = statSync(join(dir, f));
    if (s.isFile()) {
      bytes += s.size;
      files++;
    }
  }
  process.stdout.write(`${DEPLOY_DIR}: ${files} files, ${(bytes / 1024 / 1024).toFixed(2)} MB (bundled in ${buildMs} ms)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bundle failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
