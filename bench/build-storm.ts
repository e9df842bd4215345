import { seededRandom } from '../dev/seeded-random';
import { sentinelIncident, type BenchIncident } from './sentinel-incident';

/**
 * Distinct incidents naming 1–4 agents each (every agent first named by incident `i % agents`, so all are
 * covered), then `duplicates` exact repeats of random incidents, the whole sequence shuffled.
 */
export function buildStorm(agents: readonly string[], alerts: number, duplicates: number): { incidents: BenchIncident[]; posts: number[]; mentions: number } {
  const rand = seededRandom(2000);
  const distinct = alerts - duplicates;
  const incidents: BenchIncident[] = [];
  let mentions = 0;
  for (let i = 0; i < distinct; i++) {
    const named = new Set([agents[i % agents.length] as string]);
    const count = 1 + Math.floor(rand() * 4);
    while (named.size < count) {
      named.add(agents[Math.floor(rand() * agents.length)] as string);
    }
    mentions += named.size;
    incidents.push(sentinelIncident(10_000 + i, [...named], `Storm incident ${i}`));
  }
  const posts = [...incidents.keys()];
  for (let i = 0; i < duplicates; i++) {
    posts.push(Math.floor(rand() * distinct));
  }
  for (let i = posts.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [posts[i], posts[j]] = [posts[j] as number, posts[i] as number];
  }
  return { incidents, posts, mentions };
}
