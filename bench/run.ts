import { startAzurite } from '../dev/azurite';
import { benchColdStart } from './cold-start';

async function main(): Promise<void> {
  const azurite = await startAzurite({ accounts: ['coldtsc', 'coldesbuild'] });
  try {
    const t = Date.now();
    const r = await benchColdStart(azurite, 5, (l) => console.log(l));
    console.log(JSON.stringify(r, null, 1), Date.now() - t);
  } finally {
    await azurite.stop();
  }
}
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
