/**
 * The Adaptive Card subset the responder posts to Teams. Actions are only `Action.OpenUrl`: a card links to the
 * signed-in approval page where the decision is made and never decides in Teams (no Submit, no Execute).
 *
 * NOTE: version 1.4. Teams documents 1.5 for bot-sent cards, but cards posted by the Workflows app ("Post card in a
 * chat or channel", which the "When a Teams webhook request is received" template uses) render only up to 1.4:
 * https://github.com/microsoft/AdaptiveCards/issues/8965 and https://github.com/MicrosoftDocs/msteams-docs/issues/9801
 */
export const TEAMS_CARD_VERSION = '1.4';

export interface TextRun {
  type: 'TextRun';
  text: string;
  weight?: 'Bolder';
}

export type CardElement =
  | { type: 'TextBlock'; text: string; wrap: true; weight?: 'Bolder'; size?: 'Medium' | 'Large'; color?: 'Good' | 'Attention' | 'Warning' | 'Accent'; isSubtle?: boolean; spacing?: 'Medium' }
  | { type: 'RichTextBlock'; inlines: TextRun[] };

export interface OpenUrlAction {
  type: 'Action.OpenUrl';
  title: string;
  url: string;
}

export interface AdaptiveCard {
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  type: 'AdaptiveCard';
  version: typeof TEAMS_CARD_VERSION;
  body: CardElement[];
  actions?: OpenUrlAction[];
}

/** Longest text of one field on a card: the whole message must stay far below Teams' ~28 KB limit. */
const MAX_FIELD = 600;

/**
 * Text from the tenant or an alert (names, reasons, comments) as a `TextRun`, which Adaptive Cards never read as
 * Markdown (a `TextBlock` or a `FactSet` would turn `[click](https://evil)` into a link). Control characters are
 * dropped and the text is cut to a bounded length.
 */
export function plainRun(text: string, weight?: 'Bolder'): TextRun {
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '');
  const cut = clean.length > MAX_FIELD ? `${clean.slice(0, MAX_FIELD)}…` : clean;
  return weight ? { type: 'TextRun', text: cut, weight } : { type: 'TextRun', text: cut };
}

/** A "Label: value" line; the label is ours, the value is shown as plain text whatever it holds. */
export function field(label: string, value: string): CardElement {
  return { type: 'RichTextBlock', inlines: [plainRun(`${label}: `, 'Bolder'), plainRun(value)] };
}

/** Our own words (no tenant or alert text inside), where Markdown is harmless. */
export function ownText(text: string, extra: Omit<Extract<CardElement, { type: 'TextBlock' }>, 'type' | 'text' | 'wrap'> = {}): CardElement {
  return { type: 'TextBlock', text, wrap: true, ...extra };
}

/** A card with our header, body and link buttons; links that are not https (or a loopback address) are left out. */
export function card(body: CardElement[], links: { title: string; url: string | undefined }[]): AdaptiveCard {
  const actions = links.filter((l): l is { title: string; url: string } => l.url !== undefined && isSafeLink(l.url)).map((l): OpenUrlAction => ({ type: 'Action.OpenUrl', title: l.title, url: l.url }));
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: TEAMS_CARD_VERSION,
    body,
    ...(actions.length > 0 ? { actions } : {}),
  };
}

function isSafeLink(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname));
  } catch {
    return false;
  }
}

/** UTC to the minute: a Teams channel spans time zones and the card cannot know the reader's. */
export function utc(ms: number | string): string {
  const t = typeof ms === 'number' ? ms : Date.parse(ms);
  return Number.isFinite(t) ? `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'unknown time';
}
