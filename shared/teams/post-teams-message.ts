import { UpstreamError } from '../errors';
import { httpJson } from '../net/http-json';
import type { TeamsMessage } from './teams-message';

/** One post's time-out: Workflows answers 202 as soon as it has queued the run, so a slow answer is a failure. */
export const TEAMS_POST_TIMEOUT_MS = 10_000;

export type TeamsPostResult =
  | { ok: true; status: number }
  | { ok: false; transient: boolean; status?: number; retryAfterMs?: number; reason: string };

/**
 * Posts one message to the Teams Workflows webhook, once, with a time-out; retrying is the caller's (the queue's)
 * business. Throttling (429), the platform's own failures (500, 502, 503, 504), a time-out or a network failure are
 * transient: a card is safe to post again. Any other answer (400 bad card, 401/403 bad signature, 404 workflow
 * deleted) is permanent. Never throws, and never puts the URL in `reason`: its `sig` parameter is the secret.
 */
export async function postTeamsMessage(webhookUrl: string, message: TeamsMessage, opts: { timeoutMs?: number } = {}): Promise<TeamsPostResult> {
  try {
    const res = await httpJson('Teams', { method: 'POST', url: webhookUrl, body: message, timeoutMs: opts.timeoutMs ?? TEAMS_POST_TIMEOUT_MS }, { retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxInlineWaitMs: 0 } });
    return { ok: true, status: res.status };
  } catch (err) {
    if (!(err instanceof UpstreamError)) {
      return { ok: false, transient: true, reason: redact(String(err), webhookUrl) };
    }
    const status = err.httpStatus;
    return {
      ok: false,
      transient: err.transient || status === 500,
      ...(status !== undefined ? { status } : {}),
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
      reason: redact(err.message, webhookUrl),
    };
  }
}

/** Belt and braces: no error text may carry the webhook URL or its signature into a log or the audit table. */
function redact(text: string, url: string): string {
  return text.split(url).join('[teams webhook]').replace(/\bsig=[^&\s"']+/gi, 'sig=[redacted]');
}
