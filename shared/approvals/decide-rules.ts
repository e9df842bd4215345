/** An approval request as stored; decisions are appended, never edited. */
export interface ApprovalRecord {
  id: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  /** How many distinct people must approve (e.g. 2 to release a blueprint principal). */
  quorum: number;
  /** Epoch ms; from then on no decision is accepted. */
  expiresAt: number;
  /** Object id of who asked, or `'system'` when the responder itself held the action. */
  requestedBy: string;
  /** Ids that may not decide: the agent's sponsors and owners, the responder, the target itself. */
  excluded: string[];
  decisions: Decision[];
}

export interface Decision {
  /** Object id of the approver (lower-case GUID from `parseClientPrincipal`). */
  by: string;
  name?: string;
  decision: 'approve' | 'reject';
  /** Epoch ms. */
  at: number;
  comment?: string;
  /**
   * A random id of the post that made the decision: a post whose write met a conflict knows the stored decision for
   * its own (stored, its answer lost) only by it, since the same approver may post the same form twice in a millisecond.
   */
  post?: string;
}

export type DecideRefusal = 'not-pending' | 'expired' | 'not-allowed' | 'separation-of-duties' | 'already-decided';

export type DecideOutcome =
  | { ok: true; record: ApprovalRecord; final: boolean }
  | { ok: false; code: DecideRefusal; message: string };

/** Ids compare case-insensitively: object ids arrive from headers, settings and Graph in either case. */
const sameId = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The distinct people who approved so far. */
export function countApprovals(record: Pick<ApprovalRecord, 'decisions'>): number {
  return new Set(record.decisions.filter((d) => d.decision === 'approve').map((d) => d.by.toLowerCase())).size;
}

/**
 * Applies one person's decision to an approval, without I/O: the caller stores the returned record with an
 * optimistic-concurrency check (ETag), so when two people decide at once the first write wins and the second
 * re-reads and gets `not-pending` or a quorum count that includes the first.
 *
 * Order of checks: not pending → `not-pending`; `now >= expiresAt` → `expired`; not an allowed approver →
 * `not-allowed`; requester or excluded → `separation-of-duties`; already decided → `already-decided`. Then one
 * reject rejects (final); an approve is appended and the request is approved (final) once `quorum` distinct
 * people have approved.
 */
export function applyDecision(
  record: ApprovalRecord,
  d: Decision,
  opts: { now: number; isAllowedApprover: boolean },
): DecideOutcome {
  if (record.status !== 'pending') {
    return { ok: false, code: 'not-pending', message: `This request was already ${record.status}; nothing was changed.` };
  }
  if (opts.now >= record.expiresAt) {
    return {
      ok: false,
      code: 'expired',
      message: 'This request expired before a decision was made; nothing was changed. Ask for a new request from the ticket.',
    };
  }
  if (!opts.isAllowedApprover) {
    return {
      ok: false,
      code: 'not-allowed',
      message: 'You are not on the list of people who may decide this request; nothing was changed.',
    };
  }
  if (sameId(d.by, record.requestedBy) || record.excluded.some((id) => sameId(id, d.by))) {
    return {
      ok: false,
      code: 'separation-of-duties',
      message:
        'You cannot decide this request because you asked for it, or you sponsor or own the identity it concerns. Ask another approver.',
    };
  }
  if (record.decisions.some((prior) => sameId(prior.by, d.by))) {
    return { ok: false, code: 'already-decided', message: 'You have already decided this request; your first decision stands.' };
  }

  const decisions = [...record.decisions, { ...d }];
  if (d.decision === 'reject') {
    return { ok: true, record: { ...record, decisions, status: 'rejected' }, final: true };
  }
  const approved = countApprovals({ decisions }) >= Math.max(1, record.quorum);
  return { ok: true, record: { ...record, decisions, status: approved ? 'approved' : 'pending' }, final: approved };
}
