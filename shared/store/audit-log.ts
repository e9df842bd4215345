import { randomBytes } from 'node:crypto';
import { odata } from '@azure/data-tables';
import { RecordTable } from './record-table';
import { TABLES, type Storage } from './storage';

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
 * Append-only audit in the `audit` table: partition = scope, row = time + random suffix, so a scope's
 * entries read back in order with one query.
 */
export async function openAuditLog(storage: Storage, log?: { info(msg: string): void }): Promise<AuditLog> {
  const table = new RecordTable<AuditEntry>(await storage.table(TABLES.audit));
  return {
    async write(entry) {
      const at = entry.at ?? new Date().toISOString();
      const full = { ...entry, at };
      await table.insert(entry.scope, `${at}|${randomBytes(4).toString('hex')}`, full, { action: entry.action, result: entry.result });
      log?.info(JSON.stringify({ audit: full }));
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
