import type { Config } from '../config';

/** Where the case pages live under the app's origin. */
export const CASE_LIST_PATH = '/api/console/cases';

/** The same-origin path of one case's page. */
export function casePagePath(caseId: string): string {
  return `${CASE_LIST_PATH}/${encodeURIComponent(caseId)}`;
}

/**
 * The absolute link to a case's page, for tickets, incident comments and Teams cards: the page an analyst signs
 * in to (App Service Authentication), not the JSON API behind a function key. Undefined without `PUBLIC_BASE_URL`.
 *
 * @example
 * casePageUrl({ PUBLIC_BASE_URL: 'https://responders.contoso.com' }, caseId) // 'https://responders.contoso.com/api/console/cases/…'
 */
export function casePageUrl(config: Pick<Config, 'PUBLIC_BASE_URL'>, caseId: string): string | undefined {
  return config.PUBLIC_BASE_URL ? `${config.PUBLIC_BASE_URL}${casePagePath(caseId)}` : undefined;
}
