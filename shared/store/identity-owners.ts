import { odata } from '@azure/data-tables';
import { RecordTable, sameRecord, type Stored } from './record-table';
import { isConflict, isNotFound, TABLES, type Storage } from './storage';
import { keyOf } from './storage-key';
import { KnownRows } from './known-rows';

/**
 * What the owning case is doing with the identity: acting on it now, holding it for an approval, or keeping it
 * contained (until an approved release, a drift check that finds it enabled again, or retention).
 */
export type OwnerState = 'acting' | 'held' | 'contained';

/**
 * The one record per identity that says which case may act on it. Held while a case acts on the identity, holds
 * it for an approval, or keeps it contained; released the moment the case can no longer act on it (failed,
 * refused, report-only, hold rejected or expired, released), leaving what happened in `last` for the cases that
 * waited.
 */
export interface OwnerRecord {
  /** `oid:<object id>`: identities are keyed by their directory object, however an alert named them. */
  identity: string;
  /** The case that owns the identity now; absent when released. */
  caseId?: string;
  state?: OwnerState;
  /** Whether the owner's claim is backed by Sentinel (a held direct request is not: a verified case takes over). */
  verified?: boolean;
  since?: string;
  /** Cases that wait for the owner to finish: they are queued again when it releases the identity. */
  waiters: string[];
  /**
   * The last owner's outcome, kept when it released (or contained), with the waiters it woke: a retry of that case
   * wakes them again, their queue message may have been lost.
   */
  last?: { caseId: string; outcome: string; at: string; woke?: string[] };
}

/** `fresh`: nobody owned the identity before this claim (it was created, or taken from a released record). */
export type ClaimResult = { owned: true; fresh: boolean; record: OwnerRecord; etag: string } | { owned: false; record: OwnerRecord; etag: string };

/**
 * Identity ownership in the `owners` table. Partition = the first two hex digits of the key's hash (spreads a
 * storm over 256 partitions), row = the hash. Every change is conditional on the row's etag.
 */
export class IdentityOwners {
  /**
   * Row keys this instance has seen stored. A claim of one of them reads first instead of trying the insert that
   * would fail: in a storm most claims name an identity another case already owns, and this saves that round trip.
   * Only a hint about existence: every decision is still made on the row as read and written conditionally.
   */
  readonly #stored = new KnownRows(KNOWN_ROWS_MAX);

  private constructor(private readonly table: RecordTable<OwnerRecord>) {}

  static async open(storage: Storage): Promise<IdentityOwners> {
    return new IdentityOwners(new RecordTable<OwnerRecord>(await storage.table(TABLES.owners)));
  }

  /**
   * Whether this instance has seen the identity's row stored: a claim of it is likely to find another case's record.
   * A hint for what to read ahead, never for deciding anything.
   */
  seenStored(identity: string): boolean {
    return this.#stored.has(where(identity).rk);
  }

  /** The ownership key of a directory object. */
  static identityOf(objectId: string): string {
    return `oid:${objectId.toLowerCase()}`;
  }

  async get(identity: string): Promise<Stored<OwnerRecord> | undefined> {
    const { pk, rk } = where(identity);
    const row = await this.table.get(pk, rk);
    if (row) {
      this.#stored.add(rk);
    } else {
      this.#stored.delete(rk);
    }
    return row;
  }

  /**
   * Takes the identity for `caseId` when nobody owns it (or `caseId` already does); otherwise returns the current
   * owner's record and etag, for the caller to join it or take it over with {@link replace}.
   */
  async claim(identity: string, caseId: string, state: OwnerState, verified: boolean, at: string): Promise<ClaimResult> {
    const { pk, rk } = where(identity);
    const fresh: OwnerRecord = { identity, caseId, state, verified, since: at, waiters: [] };
    /** What this claim's last write would have stored, when the write met a conflict (see sameClaim). */
    let wrote: OwnerRecord | undefined;
    for (;;) {
      // An identity with no record yet: try the insert first (one round trip), read only when it exists.
      if (!this.#stored.has(rk)) {
        try {
          const etag = await this.table.insert(pk, rk, fresh, { caseId });
          this.#stored.add(rk);
          return { owned: true, fresh: true, record: fresh, etag };
        } catch (err) {
          if (!isConflict(err)) {
            throw err;
          }
          wrote = fresh; // maybe: stored, its answer lost, and the SDK's retry met it
        }
      }
      const current = await this.get(identity);
      if (!current) {
        continue;
      }
      if (current.value.caseId === caseId) {
        // The row holding the record this claim wrote is this claim's: fresh, so a run that does not use it gives it
        // back (see run-case's undoEarly) instead of keeping the identity from every later case.
        return { owned: true, fresh: wrote !== undefined && sameClaim(current.value, wrote), record: current.value, etag: current.etag };
      }
      if (current.value.caseId === undefined) {
        const record: OwnerRecord = { ...current.value, caseId, state, verified, since: at };
        const etag = await this.replace(identity, record, current.etag);
        if (etag !== undefined) {
          return { owned: true, fresh: true, record, etag };
        }
        wrote = record;
        continue;
      }
      return { owned: false, record: current.value, etag: current.etag };
    }
  }

  /**
   * Replaces the record if nobody changed it since `etag`; undefined when someone did (read and decide again). A
   * conflict is checked: when the row holds exactly `record`, this replace was stored and its answer lost (the
   * SDK's retry met it), and the caller must go on as written, or the waiters it read would never be woken.
   */
  async replace(identity: string, record: OwnerRecord, etag: string): Promise<string | undefined> {
    const { pk, rk } = where(identity);
    try {
      return await this.table.replaceChecked(pk, rk, record, etag, { caseId: record.caseId });
    } catch (err) {
      if (isNotFound(err)) {
        this.#stored.delete(rk);
      }
      if (isConflict(err) || isNotFound(err)) {
        return undefined;
      }
      throw err;
    }
  }

  /**
   * Gives the identity up if `caseId` owns it, recording `outcome`; returns the cases that waited for it (to be
   * queued again). When `caseId` gave it up before and nobody released it since (a retry of its run), returns the
   * cases it woke then: their wake-up may not have reached the queue. Otherwise an empty list.
   */
  async release(identity: string, caseId: string, outcome: string, at: string): Promise<string[]> {
    const last = { caseId, outcome, at };
    let waiting: string[] | undefined;
    for (;;) {
      const current = await this.get(identity);
      if (waiting && sameLast(current?.value.last, last)) {
        return waiting; // landed, its answer lost, and another case wrote on top before the SDK's retry (see sameLast)
      }
      if (!current || current.value.caseId !== caseId) {
        return current?.value.caseId === undefined ? wokeBy(current?.value.last, caseId) : [];
      }
      waiting = toWake(current.value, caseId);
      const released: OwnerRecord = { identity, waiters: [], last: { ...last, woke: waiting } };
      if ((await this.replace(identity, released, current.etag)) !== undefined) {
        return waiting;
      }
    }
  }

  /**
   * The owner contained the identity: it keeps it (state `contained`), and the cases that waited for it are
   * returned, to be queued again (they end joined to it), with those it woke when it said so before (a retry).
   */
  async markContained(identity: string, caseId: string, at: string): Promise<string[]> {
    const last = { caseId, outcome: 'contained', at };
    let waiting: string[] | undefined;
    for (;;) {
      const current = await this.get(identity);
      if (waiting && sameLast(current?.value.last, last)) {
        return waiting; // landed, its answer lost, and another case wrote on top before the SDK's retry
      }
      if (!current || current.value.caseId !== caseId) {
        return [];
      }
      waiting = toWake(current.value, caseId);
      const contained: OwnerRecord = { ...current.value, state: 'contained', waiters: [], last: { ...last, woke: waiting } };
      if ((await this.replace(identity, contained, current.etag)) !== undefined) {
        return waiting;
      }
    }
  }

  /** Changes the owner's state if `caseId` still owns the identity. */
  async setState(identity: string, caseId: string, state: OwnerState, verified: boolean): Promise<boolean> {
    for (;;) {
      const current = await this.get(identity);
      if (!current || current.value.caseId !== caseId) {
        return false;
      }
      if (current.value.state === state && current.value.verified === verified) {
        return true;
      }
      if ((await this.replace(identity, { ...current.value, state, verified }, current.etag)) !== undefined) {
        return true;
      }
    }
  }

  /** Records owned by `caseId` (the retention timer and the poison handler release what a case still holds). */
  async ownedBy(caseId: string): Promise<Stored<OwnerRecord>[]> {
    return this.table.query(odata`caseId eq ${caseId}`);
  }
}

/**
 * Whether a stored record is the one a claim wrote, waiters aside: the cases that find the identity owned append
 * themselves to it (and may do so between a write whose answer was lost and the SDK's retry); everything else in it
 * (the case, its state, `since`, `last`) only the claiming case changes.
 */
function sameClaim(stored: OwnerRecord, wrote: OwnerRecord): boolean {
  return sameRecord({ ...stored, waiters: [] }, { ...wrote, waiters: [] });
}

/**
 * Whether a record's `last` is the one a release or containment wrote. Every later write of the record keeps `last`
 * (a case taking a released identity spreads the record, a waiter is appended to it) until the next release, so
 * after a replace that failed, the record's `last` says whether that write landed (its answer lost, the SDK's retry
 * meeting another case's write on top of it), where {@link RecordTable.storedAs} would need the row untouched.
 */
function sameLast(a: OwnerRecord['last'], b: NonNullable<OwnerRecord['last']>): boolean {
  return a !== undefined && a.caseId === b.caseId && a.outcome === b.outcome && a.at === b.at;
}

/** The cases `caseId` woke when it last gave up or contained the identity (nobody having done so since). */
function wokeBy(last: OwnerRecord['last'], caseId: string): string[] {
  return last?.caseId === caseId ? (last.woke ?? []) : [];
}

/**
 * Whom the owner wakes as it gives up or contains the identity: its waiters, and again those it woke the last time
 * (a retry of its run; a claim it took meanwhile, then gave back, kept that record's `last`).
 */
function toWake(owned: OwnerRecord, caseId: string): string[] {
  return [...new Set([...wokeBy(owned.last, caseId), ...owned.waiters.filter((w) => w !== caseId)])];
}

/** Enough for a storm's identities; the oldest are forgotten first (a forgotten row costs one failed insert). */
const KNOWN_ROWS_MAX = 10_000;

function where(identity: string): { pk: string; rk: string } {
  const rk = keyOf(identity);
  return { pk: rk.slice(0, 2), rk };
}
