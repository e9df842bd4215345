import type { AdaptiveCard } from './adaptive-card';

/** The body a Teams Workflows webhook takes: a message whose attachments are Adaptive Cards. */
export interface TeamsMessage {
  type: 'message';
  attachments: { contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: AdaptiveCard }[];
}

/**
 * Wraps a card for the "When a Teams webhook request is received" trigger; its template posts each attachment's
 * `content` with "Post card in a chat or channel".
 *
 * NOTE: https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#send-adaptive-cards-using-an-incoming-webhook
 */
export function teamsMessage(card: AdaptiveCard): TeamsMessage {
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] };
}
