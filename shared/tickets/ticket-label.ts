import type { TicketRef } from './ticket-provider';

/** How a ticket is named in case notes and step details. */
export function ticketLabel(ref: TicketRef): string {
  return ref.provider === 'none' ? 'no ticket system configured' : `${ref.provider} ${ref.number ?? ref.id}`;
}
