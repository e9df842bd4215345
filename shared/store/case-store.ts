import { odata } from '@azure/data-tables';
import { RecordTable, TRANSACTION_MAX, type RowOp, type Stored } from './record-table';
import { isConflict, isNotFound, TABLES, type Storage } from './storage';
import { CASE_ROW, LEASE_ROW, targetRow, type CaseBundle, type CaseRecord, type CaseStatus, type LeaseRecord, type StepRecord, type TargetRecord } from './case-model';
import { keyOf } from './storage-key';

type Row = CaseRecord | TargetRecord | StepRecord | LeaseRecord;

/** A case as loaded, with the lease row's etag: the engine compares it with the lease it took (see CaseLease). */
export interface LoadedCase extends CaseBundle {
  leaseEtag: string | undefined;
  /** Rows the load read; a snapshot of more than one page is not a single point in time. */
  rows: number;
}

/** Strings a caller controls are stored cut to these lengths; a Table property holds at most 32K characters. */
export const MAX_STORED_TEXT = 1_000;

/**
 * Cases, their targets and their steps, all in the case's own partition of the `cases` table: one query reads a
 * whole case. Row keys are hashes of the ids (`targetRow`, `stepRow`), never the ids. Raw bodies and other large
 * parts (Sentinel's copy of a refused incident, long rejected-entity lists) are blobs named `{caseId}/…`.
 */
export class CaseStore {
  private constructor(
    private readonly table: RecordTable<Row>,
    private readonly storageRef: Storage,
  ) {}

  static async open(storage: Storage): Promise<CaseStore> {
    return new CaseStore(new RecordTable<Row>(await storage.table(TABLES.cases)), storage);
  }

  /**
   * Records a new case with its targets; `created: false` when the case row exists already (a repeat, the same
   * incident posted twice at once, or this post's own create whose answer was lost: the caller tells them apart by the
   * case row's post id). The case row and the first 99 targets go in one transaction: the case row is
   * the claim, so a post that finds the case exists writes nothing over it (a post delayed between a check and its
   * writes would otherwise put targets the engine had moved on back to pending). A larger case then inserts the rest,
   * 100 to a transaction, before the caller queues it; a row another post inserted first is left as it is.
   */
  async create(record: CaseRecord, targets: readonly TargetRecord[]): Promise<{ created: boolean }> {
    const create = (t: TargetRecord): RowOp<Row> => ({ op: 'create', rowKey: targetRow(t.key), value: t, columns: targetColumns(t) });
    const rest = targets.slice(TRANSACTION_MAX - 1);
    let created = true;
    try {
      await this.table.transact(record.caseId, [{ op: 'create', rowKey: CASE_ROW, value: record, columns: caseColumns(record) }, ...targets.slice(0, TRANSACTION_MAX - 1).map(create)]);
    } catch (err) {
      if (!isConflict(err)) {
        throw err;
      }
      // A repeat, or this create stored with its answer lost (the SDK's retry met it): the caller tells them apart by
      // the case row, which holds its post's id (see CaseRecord.post); a large case's own create goes on with the rest.
      if (rest.length === 0 || !(await this.holdsCase(record))) {
        return { created: false };
      }
      created = false;
    }
    const chunks: TargetRecord[][] = [];
    for (let i = 0; i < rest.length; i += TRANSACTION_MAX) {
      chunks.push(rest.slice(i, i + TRANSACTION_MAX));
    }
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          await this.table.transact(record.caseId, chunk.map(create));
        } catch (err) {
          if (!isConflict(err)) {
            throw err;
          }
          // Some rows are there already (a repeat that found the case added them, or this chunk's answer was lost).
          await this.addTargets(record.caseId, chunk, new Set());
        }
      }),
    );
    return { created };
  }

  /** Adds targets a later post names (an incident update); returns those that were not on the case yet. */
  async addTargets(caseId: string, targets: readonly TargetRecord[], existing: ReadonlySet<string>): Promise<TargetRecord[]> {
    const fresh = targets.filter((t) => !existing.has(t.key));
    const added: TargetRecord[] = [];
    await Promise.all(
      fresh.map(async (t) => {
        try {
          // Checked: an insert stored whose answer was lost is this post's to count (uncounted, it would not be
          // queued until the stuck-case timer found it).
          await this.table.insertChecked(caseId, targetRow(t.key), t, targetColumns(t));
          added.push(t);
        } catch (err) {
          if (!isConflict(err)) {
            throw err; // a concurrent post added it first: it is not ours to count
          }
        }
      }),
    );
    return added;
  }

  async load(caseId: string): Promise<LoadedCase | undefined> {
    const rows = await this.table.partition(caseId);
    const caseRow = rows.find((r) => r.rowKey === CASE_ROW) as Stored<CaseRecord> | undefined;
    if (!caseRow) {
      return undefined;
    }
    return {
      record: caseRow.value,
      etag: caseRow.etag,
      targets: rows.filter((r) => r.rowKey.startsWith('t|')).map((r) => r.value as TargetRecord),
      steps: rows.filter((r) => r.rowKey.startsWith('s|')).map((r) => r.value as StepRecord),
      leaseEtag: rows.find((r) => r.rowKey === LEASE_ROW)?.etag,
      rows: rows.length,
    };
  }

  async getCase(caseId: string): Promise<CaseRecord | undefined> {
    return (await this.table.get(caseId, CASE_ROW))?.value as CaseRecord | undefined;
  }

  /**
   * Whether the case row holds exactly `record`: after a create answered `created: false`, the caller's own create
   * stored but whose answer was lost (the SDK's retry met its case row), not another writer's.
   */
  async holdsCase(record: CaseRecord): Promise<boolean> {
    return (await this.table.storedAs(record.caseId, CASE_ROW, record)) !== undefined;
  }

  /** The lease row of a case (see CaseLease). */
  async getLease(caseId: string): Promise<Stored<LeaseRecord> | undefined> {
    return (await this.table.get(caseId, LEASE_ROW)) as Stored<LeaseRecord> | undefined;
  }

  /** The lease row when it holds exactly `value` (the case lease's own write whose answer was lost), else undefined. */
  async leaseStoredAs(caseId: string, value: LeaseRecord): Promise<Stored<LeaseRecord> | undefined> {
    return (await this.table.storedAs(caseId, LEASE_ROW, value)) as Stored<LeaseRecord> | undefined;
  }

  /** Raw access for the case lease: one atomic write of rows of the case's partition. */
  transact(caseId: string, ops: readonly RowOp<Row>[]): Promise<Map<string, string>> {
    return this.table.transact(caseId, ops);
  }

  /** Targets across all cases in a status (the drift check reads contained ones, recovery pending ones). */
  async targetsWithStatus(status: TargetRecord['status'], maxRows = Number.POSITIVE_INFINITY): Promise<{ caseId: string; target: TargetRecord }[]> {
    const rows = await this.table.query(odata`type eq 'target' and status eq ${status}`, maxRows);
    return rows.map((r) => ({ caseId: r.partitionKey, target: r.value as TargetRecord }));
  }

  /**
   * Case records for the case pages, filtered on the server by status and creation time. Table storage cannot
   * sort, so at most `maxRows` are read and `truncated` says whether more matched; the caller sorts.
   */
  async listCases(filter: { statuses?: readonly CaseStatus[]; createdSince?: string; maxRows: number }): Promise<{ cases: CaseRecord[]; truncated: boolean }> {
    const clauses = ["type eq 'case'"];
    if (filter.statuses !== undefined && filter.statuses.length > 0) {
      clauses.push(`(${filter.statuses.map((s) => odata`status eq ${s}`).join(' or ')})`);
    }
    if (filter.createdSince !== undefined) {
      clauses.push(odata`createdAt ge ${filter.createdSince}`);
    }
    const rows = await this.table.query(clauses.join(' and '), filter.maxRows + 1);
    return { cases: rows.slice(0, filter.maxRows).map((r) => r.value as CaseRecord), truncated: rows.length > filter.maxRows };
  }

  /** The targets of one case, without its steps. */
  async targetsOf(caseId: string): Promise<TargetRecord[]> {
    return (await this.table.partition(caseId, 't|')).map((r) => r.value as TargetRecord);
  }

  /**
   * Targets across all cases: those resolved to `objectId` (filtered on the server), or else every target up to
   * `maxRows` for a search the table cannot index (names, UPNs); `truncated` says whether more exist.
   */
  async findTargets(filter: { objectId?: string; maxRows: number }): Promise<{ targets: { caseId: string; target: TargetRecord }[]; truncated: boolean }> {
    const query = filter.objectId === undefined ? "type eq 'target'" : odata`type eq 'target' and objectId eq ${filter.objectId}`;
    const rows = await this.table.query(query, filter.maxRows + 1);
    return {
      targets: rows.slice(0, filter.maxRows).map((r) => ({ caseId: r.partitionKey, target: r.value as TargetRecord })),
      truncated: rows.length > filter.maxRows,
    };
  }

  /**
   * Cases in a status, up to `maxRows`; with `updatedBefore` (ISO time), only those not updated since. Filtered by the
   * server, so a sweep for cases left too long is not handed a page of fresher ones that sort first, run after run.
   */
  async casesWithStatus(status: CaseRecord['status'], maxRows = 500, updatedBefore?: string): Promise<CaseRecord[]> {
    const filter = odata`type eq 'case' and status eq ${status}` + (updatedBefore === undefined ? '' : odata` and updatedAt le ${updatedBefore}`);
    const rows = await this.table.query(filter, maxRows);
    return rows.map((r) => r.value as CaseRecord);
  }

  /** Cases created before `cutoff` (ISO time), for retention. */
  async casesCreatedBefore(cutoff: string, maxRows = 500): Promise<CaseRecord[]> {
    const rows = await this.table.query(odata`type eq 'case' and createdAt lt ${cutoff}`, maxRows);
    return rows.map((r) => r.value as CaseRecord);
  }

  /** Deletes every row of a case and its blobs (retention). */
  async deleteCase(caseId: string): Promise<void> {
    for (;;) {
      const rows = await this.table.partition(caseId);
      // The case row goes last: a case is never half there without its record saying so.
      const ordered = [...rows.filter((r) => r.rowKey !== CASE_ROW), ...rows.filter((r) => r.rowKey === CASE_ROW)];
      try {
        for (let i = 0; i < ordered.length; i += TRANSACTION_MAX) {
          await this.table.transact(caseId, ordered.slice(i, i + TRANSACTION_MAX).map((r) => ({ op: 'delete' as const, rowKey: r.rowKey })));
        }
        break;
      } catch (err) {
        // Rows already gone: a delete stored but whose answer was lost (the SDK's retry met nothing to delete). Read
        // what is left and go on, or the blobs below would outlive the case row no later run can find them by.
        if (!isNotFound(err)) {
          throw err;
        }
      }
    }
    const container = await this.storageRef.alertBodies();
    for await (const blob of container.listBlobsFlat({ prefix: `${caseId}/` })) {
      await container.deleteBlob(blob.name, { deleteSnapshots: 'include' }).catch(() => undefined);
    }
  }

  /**
   * Stores a document that belongs to a case (a posted body, Sentinel's copy of a refused incident, a long
   * rejected-entity list) as `{caseId}/{name}.json`. `name` is a fixed word or derived with `keyOf`.
   */
  async putBlob(caseId: string, name: string, text: string): Promise<string> {
    const container = await this.storageRef.alertBodies();
    const blobName = `${caseId}/${name}.json`;
    await container.getBlockBlobClient(blobName).upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: 'application/json' } });
    return blobName;
  }

  /** The blob name of a posted body: one blob per distinct body, so a repeat overwrites itself only. */
  static bodyBlobName(rawBody: string): string {
    return `body-${keyOf(rawBody).slice(0, 24)}`;
  }
}

export function caseColumns(r: CaseRecord): Record<string, string> {
  return { type: 'case', status: r.status, kind: r.kind, createdAt: r.createdAt, updatedAt: r.updatedAt };
}

export function targetColumns(t: TargetRecord): Record<string, string | undefined> {
  return { type: 'target', status: t.status, objectId: t.objectId };
}

export function stepColumns(s: StepRecord): Record<string, string> {
  return { type: 'step', state: s.state };
}

/** Cuts a caller-controlled string to what a Table property can hold next to the rest of its record. */
export function storedText(text: string, max = MAX_STORED_TEXT): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
