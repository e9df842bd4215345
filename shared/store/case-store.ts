import { odata } from '@azure/data-tables';
import { RecordTable, type Stored } from './record-table';
import { isConflict, TABLES, type Storage } from './storage';
import { CASE_ROW, stepRow, targetRow, type CaseBundle, type CaseRecord, type CaseStatus, type StepRecord, type TargetRecord } from './case-model';

type Row = CaseRecord | TargetRecord | StepRecord;

/**
 * Cases, their targets and their steps, all in the case's own partition of the `cases` table: one query
 * reads a whole case, and a case and its targets are written in one transaction.
 */
export class CaseStore {
  private constructor(private readonly table: RecordTable<Row>, private readonly storageRef: Storage) {}

  /** The storage the store writes to (for blobs that belong to a case). */
  storage(): Storage {
    return this.storageRef;
  }

  static async open(storage: Storage): Promise<CaseStore> {
    return new CaseStore(new RecordTable<Row>(await storage.table(TABLES.cases)), storage);
  }

  /** Records a new case with its targets atomically; the raw body (forensics) goes to blob storage first. */
  async create(record: CaseRecord, targets: TargetRecord[], rawBody?: string): Promise<void> {
    if (rawBody !== undefined) {
      const container = await this.storageRef.alertBodies();
      await container.getBlockBlobClient(`${record.caseId}.json`).upload(rawBody, Buffer.byteLength(rawBody), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
    }
    await this.table.insertAll(record.caseId, [
      { rowKey: CASE_ROW, value: record, columns: caseColumns(record) },
      ...targets.map((t) => ({ rowKey: targetRow(t.key), value: t, columns: targetColumns(t) })),
    ]);
  }

  async load(caseId: string): Promise<CaseBundle | undefined> {
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
    };
  }

  async getCase(caseId: string): Promise<CaseRecord | undefined> {
    return (await this.table.get(caseId, CASE_ROW))?.value as CaseRecord | undefined;
  }

  /** Applies `change` to the case record, retrying when another worker changed it meanwhile. */
  async updateCase(caseId: string, change: (record: CaseRecord) => void): Promise<CaseRecord> {
    for (;;) {
      const current = await this.table.get(caseId, CASE_ROW);
      if (!current) {
        throw new Error(`case ${caseId} not found`);
      }
      const record = current.value as CaseRecord;
      change(record);
      record.updatedAt = new Date().toISOString();
      try {
        await this.table.replace(caseId, CASE_ROW, record, current.etag, caseColumns(record));
        return record;
      } catch (err) {
        if (!isConflict(err)) {
          throw err;
        }
      }
    }
  }

  async putTarget(caseId: string, target: TargetRecord): Promise<void> {
    await this.table.upsert(caseId, targetRow(target.key), target, targetColumns(target));
  }

  /** Adds targets an incident update names; those already on the case are left as they are. */
  async addTargets(caseId: string, targets: TargetRecord[]): Promise<TargetRecord[]> {
    const added: TargetRecord[] = [];
    for (const t of targets) {
      try {
        await this.table.insert(caseId, targetRow(t.key), t, targetColumns(t));
        added.push(t);
      } catch (err) {
        if (!isConflict(err)) {
          throw err;
        }
      }
    }
    return added;
  }

  /** Step rows, read and written by the step runner with etags. */
  async getStep(caseId: string, id: string): Promise<Stored<StepRecord> | undefined> {
    return (await this.table.get(caseId, stepRow(id))) as Stored<StepRecord> | undefined;
  }

  async insertStep(caseId: string, step: StepRecord): Promise<string> {
    return this.table.insert(caseId, stepRow(step.stepId), step, { type: 'step', state: step.state });
  }

  async replaceStep(caseId: string, step: StepRecord, etag: string | undefined): Promise<string> {
    return this.table.replace(caseId, stepRow(step.stepId), step, etag, { type: 'step', state: step.state });
  }

  /** Targets across all cases in a status (the drift check reads contained ones). */
  async targetsWithStatus(status: TargetRecord['status']): Promise<{ caseId: string; target: TargetRecord }[]> {
    const rows = await this.table.query(`type eq 'target' and status eq '${status}'`);
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

  /** Cases in a status, oldest first (used to re-queue cases stuck in `received`). */
  async casesWithStatus(status: CaseRecord['status'], maxRows = 500): Promise<CaseRecord[]> {
    const rows = await this.table.query(`type eq 'case' and status eq '${status}'`, maxRows);
    return rows.map((r) => r.value as CaseRecord);
  }
}

function caseColumns(r: CaseRecord) {
  return { type: 'case', status: r.status, kind: r.kind, createdAt: r.createdAt };
}

function targetColumns(t: TargetRecord) {
  return { type: 'target', status: t.status, objectId: t.objectId };
}
