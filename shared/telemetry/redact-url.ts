/** Query parameters whose values are safe to keep in telemetry: they say which API, never who or with what secret. */
const SAFE_QUERY_KEYS: ReadonlySet<string> = new Set(['api-version', '$select', '$top', '$count', '$orderby', '$expand', 'sysparm_fields', 'sysparm_limit', 'maxresults']);

/** What {@link redactUrl} replaces a query value with (the value the OpenTelemetry HTTP conventions name). */
export const REDACTED = 'REDACTED';

/**
 * A URL as telemetry may record it: no user name or password, and the value of every query parameter replaced with
 * `REDACTED` except the few that only name the API (`api-version`, `$select`, …). Secrets travel in query strings
 * here (an approval link's `token`, a Teams Workflows webhook's `sig`, a Graph `$skiptoken`), and `$filter` values
 * name people, so the rule is "keep the harmless ones" rather than "drop the known secrets". The fragment goes too.
 * Text that is not an absolute URL is returned with its query cut off.
 *
 * @example
 * redactUrl('https://prod.westus.logic.azure.com/workflows/1/triggers/manual/paths/invoke?api-version=1&sig=abc')
 * // 'https://prod.westus.logic.azure.com/workflows/1/triggers/manual/paths/invoke?api-version=1&sig=REDACTED'
 */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    const cut = raw.search(/[?#]/);
    return cut < 0 ? raw : raw.slice(0, cut);
  }
  url.username = '';
  url.password = '';
  url.hash = '';
  const kept: string[] = [];
  for (const [key, value] of url.searchParams) {
    kept.push(`${encodeURIComponent(key)}=${SAFE_QUERY_KEYS.has(key.toLowerCase()) ? encodeURIComponent(value) : REDACTED}`);
  }
  url.search = '';
  return kept.length === 0 ? url.toString() : `${url.toString()}?${kept.join('&')}`;
}
