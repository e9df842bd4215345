import { createHmac } from 'node:crypto';
import { httpJson, type HttpJsonOptions } from '../net/http-json';
import type { TicketProvider } from './ticket-provider';

/** `sha256=<hex>` HMAC of the exact body bytes, the convention of GitHub-style webhooks. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/**
 * A generic ticket webhook: JSON events signed with HMAC-SHA256 in `X-Signature-256`, each with an
 * `Idempotency-Key` (the ticket key, or the note key) so the receiver drops a retried delivery: a POST here is
 * safe to send again after a lost answer. A webhook cannot be read back: `get` returns the reference as it is.
 */
export function webhookTickets(options: { url: string; secret: string; http?: HttpJsonOptions }): TicketProvider {
  const post = async (event: Record<string, unknown>, idempotencyKey: string): Promise<unknown> => {
    const body = JSON.stringify(event);
    const res = await httpJson<unknown>('Webhook', {
      method: 'POST',
      url: options.url,
      headers: { 'x-signature-256': signBody(options.secret, body), 'idempotency-key': idempotencyKey },
      body,
      idempotent: true,
    }, options.http);
    return res.body;
  };
  return {
    name: 'webhook',
    async open(request) {
      const answer = await post({ event: 'ticket.open', key: request.key, caseId: request.caseId, title: request.title, text: request.text, severity: request.severity }, request.key);
      const id = typeof answer === 'object' && answer !== null && typeof (answer as { id?: unknown }).id === 'string' ? (answer as { id: string }).id : request.key;
      return { provider: 'webhook', id };
    },
    get: (ref) => Promise.resolve(ref),
    async addNote(ticket, note, noteKey) {
      await post({ event: 'ticket.note', ticketId: ticket.id, note }, noteKey);
    },
  };
}
