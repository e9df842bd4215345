import type { InventoryAgent } from '../graph/agent-inventory';

/** Where an agent's end of lifecycle is read from (`LIFECYCLE_EXPIRY_ATTRIBUTE`, `LIFECYCLE_EXPIRY_TAG_PREFIX`). */
export interface EndOfLifeSources {
  /** `AttributeSet.AttributeName` of a custom security attribute holding a date; unset: not used. */
  attribute?: string | undefined;
  /** Prefix of a service principal tag followed by `YYYY-MM-DD`, e.g. `agent-expires:`; empty: not used. */
  tagPrefix: string;
}

export interface EndOfLife {
  /** `YYYY-MM-DD` (UTC). */
  date: string;
  from: 'attribute' | 'tag';
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})/;

/** The `YYYY-MM-DD` a value starts with, when it is a real calendar date (a date or an ISO date-time). */
function calendarDate(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const m = DATE.exec(value.trim());
  if (!m) {
    return undefined;
  }
  const date = `${m[1]}-${m[2]}-${m[3]}`;
  // Date.parse accepts 2026-02-30 (it rolls over); a round trip catches it.
  const ms = Date.parse(`${date}T00:00:00Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date ? undefined : date;
}

/**
 * The end of an agent's lifecycle, from the first configured source that holds a valid date: the custom
 * security attribute first, then the tag. Graph has no built-in expiry property on agent objects
 * (api-facts.md, Lifecycle). Undefined when neither holds one: such agents never expire.
 * @example readEndOfLife({ tags: ['agent-expires:2026-01-31'], … }, { tagPrefix: 'agent-expires:' }) // { date: '2026-01-31', from: 'tag' }
 */
export function readEndOfLife(agent: Pick<InventoryAgent, 'tags' | 'customSecurityAttributes'>, sources: EndOfLifeSources): EndOfLife | undefined {
  if (sources.attribute) {
    const [set, name] = sources.attribute.split('.');
    const values = set ? agent.customSecurityAttributes?.[set] : undefined;
    const date = name && values !== null && typeof values === 'object' ? calendarDate((values as Record<string, unknown>)[name]) : undefined;
    if (date) {
      return { date, from: 'attribute' };
    }
  }
  const prefix = sources.tagPrefix.toLowerCase();
  if (prefix.length > 0) {
    for (const tag of agent.tags ?? []) {
      if (tag.toLowerCase().startsWith(prefix)) {
        const date = calendarDate(tag.slice(prefix.length));
        if (date) {
          return { date, from: 'tag' };
        }
      }
    }
  }
  return undefined;
}
