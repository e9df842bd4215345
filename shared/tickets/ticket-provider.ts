/** What a ticket says; providers render it in their own format (ServiceNow text, Jira ADF, webhook JSON). */
export interface TicketRequest {
  /** Deterministic key (one per case and purpose): a retried open finds the ticket instead of making a second. */
  key: string;
  title: string;
  /** Plain text, several lines. */
  text: string;
  severity: 'High' | 'Medium' | 'Low' | 'Informational';
  caseId: string;
}

export interface TicketRef {
  provider: 'servicenow' | 'jira' | 'webhook' | 'none';
  id: string;
  /** Human number (INC0010001, SEC-12) where the provider has one. */
  number?: string;
}

/** What the caller knows of an earlier attempt of the same write (same ticket key, or same note key). */
export interface EarlierAttempt {
  /**
   * When an earlier attempt whose outcome is unknown was sent (epoch ms): the `attemptedAt` of the
   * `WritePendingError` it threw (persist it with the step), or, after a crash, when the step's last attempt
   * started. While that attempt may still become visible, the provider looks but does not write again.
   */
  earlierAttemptAt?: number;
}

/**
 * A ticket system. Every write is exactly-once under "time-out after commit": it looks its effect up (ticket by
 * key, note by note key) before every attempt, and when an attempt's answer is lost it throws a transient
 * `WritePendingError` instead of writing blindly again.
 */
export interface TicketProvider {
  readonly name: TicketRef['provider'];
  /** Opens the ticket for `request.key`, or returns the one already open for it. */
  open(request: TicketRequest, earlier?: EarlierAttempt): Promise<TicketRef>;
  /**
   * Reads a ticket back by the reference `open` returned (consistent, unlike a search): undefined when the
   * system says it does not exist. A provider that cannot be read (webhook, none) returns `ref` as it is.
   */
  get(ref: TicketRef): Promise<TicketRef | undefined>;
  /** Adds a note once per `noteKey`: a retried note is found and not added again. */
  addNote(ticket: TicketRef, note: string, noteKey: string, earlier?: EarlierAttempt): Promise<void>;
}

/** Used when `TICKET_PROVIDER=none`: every case still records that no ticket system is configured. */
export const noTickets: TicketProvider = {
  name: 'none',
  open: (request) => Promise.resolve({ provider: 'none', id: request.key }),
  get: (ref) => Promise.resolve(ref),
  addNote: () => Promise.resolve(),
};
