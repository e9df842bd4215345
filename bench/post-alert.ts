import { sleep } from './map-limit';

export interface PostOutcome {
  /** The answer that ended the retries (0: the connection failed every time). */
  status: number;
  /** Answers of the attempts that were retried (status, or 0 for a dropped connection). */
  retried: number[];
  caseId?: string;
  /** Of the answered attempt. */
  latencyMs: number;
  attempts: number;
}

const MAX_ATTEMPTS = 60;
const RETRY_DELAY_MS = 250;

/**
 * A playbook's POST: a dropped connection or a 5xx/429 is retried (a Logic App's default policy retries
 * these), so a host killed mid-request loses nothing as long as the intake deduplicates the retry.
 */
export async function postAlert(url: string, body: string, headers: Record<string, string>): Promise<PostOutcome> {
  const retried: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const t0 = Date.now();
    try {
      const res = await fetch(`${url}/api/alerts`, { method: 'POST', headers, body });
      const text = await res.text();
      if ((res.status >= 500 || res.status === 429) && attempt < MAX_ATTEMPTS) {
        retried.push(res.status);
        await sleep(RETRY_DELAY_MS);
        continue;
      }
      const caseId = parseCaseId(text);
      return { status: res.status, retried, latencyMs: Date.now() - t0, attempts: attempt, ...(caseId ? { caseId } : {}) };
    } catch {
      if (attempt >= MAX_ATTEMPTS) {
        return { status: 0, retried, latencyMs: Date.now() - t0, attempts: attempt };
      }
      retried.push(0);
      await sleep(RETRY_DELAY_MS);
    }
  }
}

function parseCaseId(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { caseId?: unknown };
    return typeof body.caseId === 'string' ? body.caseId : undefined;
  } catch {
    return undefined;
  }
}
