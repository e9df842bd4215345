import { createStorage } from '../../shared/store/storage';
import { CaseStore } from '../../shared/store/case-store';
import type { Stack } from './start-stack';

/** The release forms of a case page: each one's hidden fields and the id of its reason box, HTML entities decoded. */
export function readReleaseForms(html: string): { action: string; af: string; targetId: string; reasonId: string }[] {
  const forms = [...html.matchAll(/<form id="release-\d+" class="release" method="post" action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
  return forms.map((m) => {
    const body = m[2] ?? '';
    const field = (name: string) => decode(new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(body)?.[1] ?? '');
    return { action: decode(m[1] ?? ''), af: field('af'), targetId: field('targetId'), reasonId: /<textarea id="([^"]+)"/.exec(body)?.[1] ?? '' };
  });
}

/** The `application/x-www-form-urlencoded` body the release form posts. */
export function releaseBody(form: { af: string; targetId: string }, reason: string): string {
  return new URLSearchParams({ af: form.af, targetId: form.targetId, reason }).toString();
}

/** The stack's case store, opened from the test (to seed a case the intake cannot make, e.g. one from last week). */
export async function caseStoreOf(stack: Stack): Promise<CaseStore> {
  const noCredential = { getToken: () => Promise.resolve(null) };
  return CaseStore.open(createStorage({ AzureWebJobsStorage: stack.env['AzureWebJobsStorage'] }, noCredential));
}

function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_e: string, n: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[n] ?? '');
}
