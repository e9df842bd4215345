import type { Graph } from './graph-client';
import { seg } from './graph-client';

export interface MailMessage {
  to: string[];
  subject: string;
  /** Plain text; the approval link is the only thing a reader must act on. */
  text: string;
}

/**
 * Sends mail from `sender` (a mailbox UPN or id) through Graph `sendMail`, not saved to Sent Items. Not idempotent:
 * after a lost answer it is not resent (the caller decides), so nobody gets the same approval mail twice.
 */
export async function sendMail(graph: Graph, sender: string, message: MailMessage): Promise<void> {
  await graph.call({
    method: 'POST',
    path: `/users/${seg(sender)}/sendMail`,
    idempotent: false,
    body: {
      message: {
        subject: message.subject,
        body: { contentType: 'Text', content: message.text },
        toRecipients: message.to.map((address) => ({ emailAddress: { address } })),
      },
      saveToSentItems: false,
    },
  });
}
