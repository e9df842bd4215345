import type { Logger } from '../logger';
import { redactSecrets } from './redact-secrets';

/** What a structured log line may carry; `caseId` and `approvalId` are the keys to search a case by. */
export interface EventFields {
  caseId?: string | undefined;
  approvalId?: string | undefined;
  [key: string]: unknown;
}

export type EventLevel = 'info' | 'warn' | 'error';

/**
 * Writes one structured log line: a JSON object whose `event` names what happened, with the case id (and approval
 * id where there is one) as top-level keys, so one Kusto `where` finds every line of a case. String values pass
 * through {@link redactSecrets}; undefined fields are left out.
 *
 * @example
 * logEvent(context, 'step', { caseId, action: 'disable', state: 'done' });
 * // {"event":"step","caseId":"…","action":"disable","state":"done"}
 */
export function logEvent(log: Pick<Logger, EventLevel>, event: string, fields: EventFields, level: EventLevel = 'info'): void {
  const line: Record<string, unknown> = { event };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) {
      line[key] = typeof value === 'string' ? redactSecrets(value) : value;
    }
  }
  log[level](JSON.stringify(line));
}
