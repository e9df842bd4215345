import { z } from 'zod';
import { ValidationError, type FieldProblem } from '../errors';

/** Longest comment kept with a decision; it goes to the audit log and the ticket. */
export const MAX_COMMENT_LENGTH = 1000;

/** The confirmation form's fields once accepted. */
export const decisionFormSchema = z.strictObject({
  token: z.string().min(1, 'is required').max(2048, 'is too long'),
  af: z.string().min(1, 'is required').max(200, 'is too long'),
  decision: z.enum(['approve', 'reject'], { error: 'must be "approve" or "reject"' }),
  comment: z
    .string()
    .transform((v) => v.replace(/\r\n?/g, '\n').trim())
    .pipe(z.string().max(MAX_COMMENT_LENGTH, `must be at most ${MAX_COMMENT_LENGTH} characters`))
    .optional()
    .transform((v) => (v === undefined || v.length === 0 ? undefined : v)),
});
export type DecisionForm = z.infer<typeof decisionFormSchema>;

const FIELDS = ['token', 'af', 'decision', 'comment'] as const;

/**
 * Parses the confirmation form post (`application/x-www-form-urlencoded`). Unknown fields are ignored (browsers
 * and proxies add some); a field given twice is refused, since which copy wins would be ambiguous. A rejection
 * needs a reason (`comment`).
 *
 * @throws ValidationError naming each bad field.
 */
export function parseDecisionForm(body: string): DecisionForm {
  const params = new URLSearchParams(body);
  const input: Record<string, string> = {};
  const problems: FieldProblem[] = [];
  for (const field of FIELDS) {
    const values = params.getAll(field);
    if (values.length > 1) {
      problems.push({ field, message: 'must appear once' });
    } else if (values[0] !== undefined) {
      input[field] = values[0];
    }
  }
  const parsed = decisionFormSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path.map(String).join('.') || '(form)';
      if (problems.some((p) => p.field === field)) {
        continue;
      }
      const message = issue.code === 'invalid_type' && input[field] === undefined ? 'is required' : issue.message;
      problems.push({ field, message });
    }
  }
  if (parsed.success && parsed.data.decision === 'reject' && parsed.data.comment === undefined && !problems.some((p) => p.field === 'comment')) {
    // The case, the ticket and the incident say why nothing changed: a rejection without a reason says nothing.
    problems.push({ field: 'comment', message: 'is required to reject (give the reason)' });
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ValidationError(`The decision form is not valid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}.`, problems);
  }
  return parsed.data;
}
