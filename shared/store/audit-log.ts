import { randomBytes } from 'node:crypto';
import { odata } from '@azure/data-tables';
import { PartitionBatcher } from './partition-batcher';
import { RecordTable } from './record-table';
import { TABLES, type Storage } from './storage';
import type { Logger } from '../logger';
import { isGuid } from '../is-guid';
import { logEvent } from '../telemetry/log-event';

/** One audited event: every state change, approval view, decision and refusal. */
export interface AuditEntry {
  /** What happened, e.g. `target.disabled`, `approval.viewed`, `intake.refused`. */
  action: string;
  /** Case, approval or sweep this belongs to; `system` otherwise. */
  scope: string;
  actor: string;
  targetId?: string;
  result: 'ok' | 'failed' | 'refused' | 'would-do' | 'info';
  requestId?: string;
  detail?: string;
  at?: string;
}

export interface AuditLog {
  write(entry: AuditEntry): Promise<void>;
  list(scope: string): Promise<AuditEntry[]>;
  /** Removes a scope's entries (a case removed at the end of its retention). */
  purgeScope(scope: string): Promise<number>;
  /** Removes entries written before `cutoff` (ISO time) in scopes that are not cases. */
  purgeBefore(cutoff: string, maxRows?: number): Promise<number>;
}

/**
 * Where a written audit entry also goes (the Logs Ingestion API): after the row is in the table, best effort.
 * `send` must not throw or wait: the table is the system of record and the audited action never depends on it.
 */
export interface AuditSink {
  send(entry: AuditEntry & { at: string }): void;
}

/** Approval audit details start with the approval's id (24 hex characters). */
const APPROVAL_ID = /^([0-9a-f]{24}):/;

/**
 * Append-only audit in the `audit` table: partition = scope, row = time + random suffix, so a scope's
 * entries read back in order with one query (and are written together, see PartitionBatcher). Each written entry is then logged once (a structured `audit` line
 * with the case and approval ids) and handed to `sink`.
 */
export async function openAuditLog(storage: Storage, log?: Logger, sink?: AuditSink): Promise<AuditLog> {
  const table = new RecordTable<AuditEntry>(await storage.table(TABLES.audit));
  // A case's entries share a partition: those written together go out in one transaction.
  const rows = new PartitionBatcher(table);
  return {
    async write(entry) {
      const at = entry.at ?? new Date().toISOString();
      const full = { ...entry, at };
      await rows.insert(entry.scope, `${at}|${randomBytes(4).toString('hex')}`, full, { action: entry.action, result: entry.result });
      if (log) {
        const { scope, detail, ...rest } = full;
        logEvent(log, 'audit', { caseId: isGuid(scope) ? scope : undefined, approvalId: APPROVAL_ID.exec(detail ?? '')?.[1], scope: isGuid(scope) ? undefined : scope, ...rest, detail });
      }
      sink?.send(full);
    },
    async list(scope) {
      return (await table.partition(scope)).map((r) => r.value);
    },
    async purgeScope(scope) {
      return table.deleteRows(await table.partition(scope));
    },
    async purgeBefore(cutoff, maxRows = 5_000) {
      // Row keys start with the entry's ISO time, so one range query finds what is older than the cutoff.
      return table.deleteRows(await table.query(odata`RowKey lt ${cutoff}`, maxRows));
    },
  };
}
