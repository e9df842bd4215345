import { startAzurite } from '../dev/azurite';
import { benchStorm } from './storm';
import { startStorageProxy as startStorageTap } from '../dev/storage-proxy';

/**
 * `node dist/bench/storm-storage-profile.js [alerts] [agents]`: the storm through the storage tap, printing every
 * kind of storage request with its count. Not part of `npm run bench` (the proxy slows the storm): it explains
 * the storm's figures, request by request.
 */
async function main(): Promise<void> {
  const alerts = Number(process.argv[2] ?? 2000);
  const agents = Number(process.argv[3] ?? 500);
  const azurite = await startAzurite({ accounts: ['profile'] });
  const tap = await startStorageTap(azurite);
  try {
    const r = await benchStorm(tap, { label: 'profile', account: 'profile', alerts, agents, duplicates: Math.round(alerts * 0.15), concurrency: 100, latencyMs: 0, faultRate: 0, dropRate: 0, killMidRun: false, timeoutMs: 15 * 60_000 }, (l) => process.stderr.write(`${l}\n`));
    // Up to the last case finishing: the benchmark's own reads of every case afterwards are not the app's.
    const requests = tap.requests.filter((q) => q.startedAt >= r.startedAt && q.startedAt <= r.startedAt + r.completeMs);
    const byShape = new Map<string, number>();
    for (const q of requests) {
      const key = `${q.service} ${q.method} ${q.shape}`;
      byShape.set(key, (byShape.get(key) ?? 0) + 1);
    }
    const lines = [...byShape].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${String(n).padStart(7)}  ${k}`);
    process.stdout.write(`${requests.length} storage requests for ${alerts} alerts (${Math.round((requests.length / alerts) * 10) / 10} per alert), ${r.cases.ran} cases acted; checks ${r.checks.every((c) => c.ok) ? 'passed' : 'failed'}\n${lines.join('\n')}\n`);
  } finally {
    await tap.stop();
    await azurite.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
