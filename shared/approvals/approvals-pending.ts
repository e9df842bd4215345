import { odata, type TableClient } from '@azure/data-tables';
import { APPROVAL_ROW } from './approval-entity';
import { metrics, type MeterProvider, type ObservableResult } from '@opentelemetry/api';
import { METRICS, TELEMETRY_SCOPE } from '../telemetry/responder-metrics';

/** How old the count may be when a collection reads it: the approvals table is queried at most this often. */
export const APPROVALS_COUNT_MAX_AGE_MS = 60_000;

interface Registration {
  provider: MeterProvider;
  count: () => Promise<number>;
  value: number | undefined;
  readAt: number;
  refreshing: Promise<void> | undefined;
  now: () => number;
}

let registration: Registration | undefined;

/**
 * Publishes `agent_responders.approvals.pending`, an observable gauge of the approvals waiting for a decision.
 * Metric collection runs every minute or so on each instance, so the count is cached: `count` (a table query) runs
 * at most once per {@link APPROVALS_COUNT_MAX_AGE_MS}, never twice at once, and a failed query keeps the last value.
 * Calling it again replaces the count function (one gauge per process).
 *
 * @example
 * observeApprovalsPending(() => countPendingApprovals(approvalsTable));
 */
export function observeApprovalsPending(count: () => Promise<number>, now: () => number = Date.now): void {
  const provider = metrics.getMeterProvider();
  if (registration?.provider === provider) {
    registration.count = count;
    registration.now = now;
    registration.readAt = Number.NEGATIVE_INFINITY;
    return;
  }
  const reg: Registration = { provider, count, value: undefined, readAt: Number.NEGATIVE_INFINITY, refreshing: undefined, now };
  registration = reg;
  provider
    .getMeter(TELEMETRY_SCOPE)
    .createObservableGauge(METRICS.approvalsPending, { description: 'Approvals waiting for a decision' })
    .addCallback(async (result: ObservableResult) => {
      if (reg.now() - reg.readAt >= APPROVALS_COUNT_MAX_AGE_MS) {
        reg.refreshing ??= reg
          .count()
          .then((n) => {
            reg.value = n;
          })
          .catch(() => undefined)
          .finally(() => {
            reg.readAt = reg.now();
            reg.refreshing = undefined;
          });
        await reg.refreshing;
      }
      if (reg.value !== undefined) {
        result.observe(reg.value);
      }
    });
}

/** Counts the approvals whose `status` column is `pending` (their approval rows), reading only their keys. */
export async function countPendingApprovals(table: Pick<TableClient, 'listEntities'>): Promise<number> {
  let n = 0;
  const filter = odata`RowKey eq ${APPROVAL_ROW} and status eq 'pending'`;
  for await (const page of table.listEntities({ queryOptions: { filter, select: ['RowKey'] } }).byPage({ maxPageSize: 1000 })) {
    n += page.length;
  }
  return n;
}
