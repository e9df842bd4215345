import { targetKey } from '../alerts/alert-types';
import type { CaseHint } from '../store/case-queue';
import { KnownRows } from '../store/known-rows';
import type { PrepareRecord, PrepareResult } from './planner';

/** At most this many cases' reads wait at once: beyond it (a storm, the responder busy) the responder reads itself. */
export const READ_AHEAD_LIMIT = 8;
/** A read sent longer ago than this is not used: the responder reads again (and the entry is forgotten). */
export const READ_AHEAD_TTL_MS = 2_000;

/** How many case ids this instance remembers having read ahead for. */
const SEEN_MAX = 10_000;

/** The planner's reads (resolve, verify at source) of a set of targets. */
export type PrepareReads = (record: PrepareRecord, targets: CaseHint['targets']) => Promise<PrepareResult>;

/** What the planner reads a hint with: the case and where its source is read back. */
export function prepareRecordOf(caseId: string, hint: CaseHint): PrepareRecord {
  return {
    caseId,
    source: hint.source,
    ...(hint.incidentArmId !== undefined ? { incidentArmId: hint.incidentArmId } : {}),
    ...(hint.alertId !== undefined ? { alertId: hint.alertId } : {}),
    ...(hint.workspaceCustomerId !== undefined ? { workspaceCustomerId: hint.workspaceCustomerId } : {}),
  };
}

interface Entry {
  /** Where the source is read back: the hint's source, incident, alert and workspace. */
  source: string;
  /** Each target's key and the identity it names (`targetKey` of its reference). */
  targets: Map<string, string>;
  sentAt: number;
  result: Promise<PrepareResult>;
}

function sourceOf(hint: CaseHint): string {
  return JSON.stringify([hint.source, hint.incidentArmId ?? null, hint.alertId ?? null, hint.workspaceCustomerId ?? null]);
}

/**
 * The responder's first reads (Graph's answer for the identities, Sentinel's copy of the incident or alert), sent by
 * the intake of this process as soon as the caller is verified, beside the case's durable record, for the run this
 * process will start on the queue message a few milliseconds later. The queue hop (the record, the message, its
 * read) then runs beside the reads instead of before them.
 *
 * Only reads: nothing here writes, decides or vouches. They stand in for the reads the run would send itself, and
 * nothing more: the run uses an entry only when its message names the same case, the same source and, for every
 * target it hints, the same identity the reads were sent for; only once; only if they were sent at most
 * {@link READ_AHEAD_TTL_MS} before. A read that failed is the run's failed read, handled as its own (a transient one
 * is retried, never taken for an answer). Anything else — another instance took the message, the responder is busy,
 * the entry went stale — and the run reads for itself, as without it.
 */
export class ReadAhead {
  private readonly entries = new Map<string, Entry>();
  /** Cases this instance has sent reads for. */
  private readonly seen = new KnownRows(SEEN_MAX);

  constructor(
    private readonly read: PrepareReads,
    private readonly now: () => number = Date.now,
    private readonly limit = READ_AHEAD_LIMIT,
    private readonly ttlMs = READ_AHEAD_TTL_MS,
  ) {}

  /**
   * Sends the reads of a case's hint before its record is stored, unless this instance has sent reads for the case
   * before (a repeat or an update of it, most likely: the record will say which targets are new, see {@link start}).
   */
  startNew(caseId: string, hint: CaseHint): void {
    if (!this.seen.has(caseId)) {
      this.start(caseId, hint);
    }
  }

  /** Sends the reads of a case's hint, unless its reads are already waiting or {@link READ_AHEAD_LIMIT} cases' are. */
  start(caseId: string, hint: CaseHint): void {
    this.forgetStale();
    if (hint.targets.length === 0 || this.entries.has(caseId) || this.entries.size >= this.limit) {
      return;
    }
    this.seen.add(caseId);
    const sentAt = this.now();
    const result = this.read(prepareRecordOf(caseId, hint), hint.targets);
    result.catch(() => undefined); // a failure is the run's to see, or nobody's
    this.entries.set(caseId, { source: sourceOf(hint), targets: new Map(hint.targets.map((t) => [t.key, targetKey(t.ref)])), sentAt, result });
  }

  /** The reads sent for this case, when they answer what the run would read itself (see the class); forgotten either way. */
  take(caseId: string, hint: CaseHint): Promise<PrepareResult> | undefined {
    const entry = this.entries.get(caseId);
    if (!entry) {
      return undefined;
    }
    this.entries.delete(caseId);
    const same = entry.source === sourceOf(hint) && hint.targets.length > 0 && hint.targets.every((t) => entry.targets.get(t.key) === targetKey(t.ref));
    return same && this.now() - entry.sentAt <= this.ttlMs ? entry.result : undefined;
  }

  /** Cases whose reads are waiting (for tests and telemetry). */
  get size(): number {
    this.forgetStale();
    return this.entries.size;
  }

  private forgetStale(): void {
    const now = this.now();
    for (const [caseId, entry] of this.entries) {
      if (now - entry.sentAt > this.ttlMs) {
        this.entries.delete(caseId);
      }
    }
  }
}
