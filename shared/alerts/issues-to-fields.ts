import type { z } from 'zod';
import { ValidationError, type FieldProblem } from '../errors';
import type { PostedBody } from './posted-body';

/**
 * Most problems listed in one 400. A hostile body can hold thousands of bad fields; the answer names the
 * first ones and says how many more there are, so it stays small and cheap to build.
 */
export const MAX_PROBLEMS = 100;

/**
 * zod issues as field problems, one per field (the first found), at most {@link MAX_PROBLEMS} of them. An
 * unknown key (strict schemas) is named as its own field (`targets[0].objectId`). With `posted`, paths are
 * spelled as the sender wrote them (`Object.Properties.Title`); without it, as the schema names them.
 */
export function issuesToFields(issues: readonly z.core.$ZodIssue[], posted?: PostedBody): FieldProblem[] {
  const fields: FieldProblem[] = [];
  const seen = new Set<string>();
  let more = 0;
  const add = (field: string, message: string): void => {
    if (seen.has(field)) {
      return;
    }
    seen.add(field);
    if (fields.length < MAX_PROBLEMS) {
      fields.push({ field, message });
    } else {
      more++;
    }
  };
  for (const issue of issues) {
    const base = posted === undefined ? formatPath(issue.path) : posted.path(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        add(base === '$' ? key : `${base}.${key}`, 'is not a known field');
      }
    } else {
      add(base, issue.message);
    }
  }
  if (more > 0) {
    fields.push({ field: '$', message: `and ${more} more field(s) with problems, not listed` });
  }
  return fields;
}

/**
 * `schema.parse(body)`, except that a failure is a {@link ValidationError} (400) with `message`, naming every
 * bad field by its JSON path as posted.
 */
export function parseOrThrow<T>(schema: z.ZodType<T>, body: unknown, posted: PostedBody, message: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new ValidationError(message, issuesToFields(result.error.issues, posted));
  }
  return result.data;
}

/** `a.b[2].c` from a zod path; `$` for the root. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      out += `[${segment}]`;
    } else {
      const key = String(segment);
      out = out === '' ? key : `${out}.${key}`;
    }
  }
  return out === '' ? '$' : out;
}
