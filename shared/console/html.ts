import { escapeHtml } from '../approvals/escape-html';

/** Markup built by {@link html}: the only thing a template inserts without escaping. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

function fragment(value: unknown): string {
  if (value instanceof SafeHtml) {
    return value.value;
  }
  if (Array.isArray(value)) {
    return value.map(fragment).join('');
  }
  if (value === undefined || value === null || value === false) {
    return '';
  }
  if (typeof value === 'string' || typeof value === 'number') {
    return escapeHtml(value);
  }
  // Objects have no meaningful text; rendering them would be a bug, shown rather than hidden.
  return escapeHtml(JSON.stringify(value) ?? '');
}

/**
 * A template tag that HTML-escapes every interpolated value unless it is itself `html` output, so escaping is
 * the default and forgetting it is impossible: incident titles and entity names come from attackers.
 * Arrays are joined; `undefined`, `null` and `false` render nothing.
 *
 * @example
 * html`<p>${'<script>'}</p>`.value // '<p>&lt;script&gt;</p>'
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += fragment(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}
