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

/** What the caller knows of earlier attempts to open the same ticket. */
export interface OpenOptions {
  /**
   * When an earlier create was sent whose outcome is unknown (its answer was lost): the provider looks for that
   * ticket before creating, and waits for a search that is not read-after-write consistent to catch up.
   */
  earlierAttemptAt?: number;
}

export interface TicketProvider {
  readonly name: TicketRef['provider'];
  /** Opens the ticket for `request.key`, or returns the one already open for it. */
  open(request: TicketRequest, options?: OpenOptions): Promise<TicketRef>;
  /** Adds a note; `noteKey` makes a retried note idempotent where the provider allows it. */
  addNote(ticket: TicketRef, note: string, noteKey: string): Promise<void>;
}

/** Used when `TICKET_PROVIDER=none`: every case still records that no ticket system is configured. */
export const noTickets: TicketProvider = {
  name: 'none',
  open: (request) => Promise.resolve({ provider: 'none', id: request.key }),
  addNote: () => Promise.resolve(),
};
