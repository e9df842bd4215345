import { z } from 'zod';
import { parseIncidentArmId, type IncidentArmId } from '../sentinel/incident-arm-id';
import { GUID_PATTERN } from '../is-guid';
import { describeType, hasLoneSurrogate, ownElements, wellFormed } from './json-value';
import { matchSeverity } from './normalize-severity';

/**
 * Longest string read from any field. Entity lists posted as JSON text are the exception (their length is
 * bounded by the entity count and the body size instead).
 */
export const MAX_FIELD_LENGTH = 10_000;

const OVER_LONG = `is longer than ${MAX_FIELD_LENGTH} characters`;

/** `is required (a string)` when absent, `must be a string, got a number` otherwise. */
function typeMessage(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? `is required (${what})` : `must be ${what}, got ${describeType(issue.input)}`);
}

/**
 * Any value, but a string longer than {@link MAX_FIELD_LENGTH} is refused. For entity fields, where a
 * wrong type only means the entity names no one (the entity's own verdict, not the body's), while a
 * megabyte-sized "name" must never reach keys, logs or reasons.
 */
export const boundedValue = z.unknown().refine((v) => typeof v !== 'string' || v.length <= MAX_FIELD_LENGTH, OVER_LONG);

/** A string of at most {@link MAX_FIELD_LENGTH} characters. */
export const text = z.string({ error: typeMessage('a string') }).max(MAX_FIELD_LENGTH, OVER_LONG);

/**
 * Text shown to people (a title): within the limit, with any unpaired surrogate replaced by U+FFFD, so it
 * survives UTF-8, URL encoding and storage wherever it is copied.
 */
export const displayString = text.transform(wellFormed);

// As `shared/sentinel/incident-arm-id.ts` checks them inside an incident id.
const RESOURCE_GROUP = /^[-\w.()\p{L}\p{N}]{1,90}$/u;
const WORKSPACE_NAME = /^[-\w]{1,63}$/;

/**
 * An Azure resource group name (letters, digits, `-_.()`, at most 90, no trailing period), or blank, which
 * reads as not given. It ends up in workspace allow-list checks and ARM paths, so nothing else passes.
 */
export const resourceGroupName = text
  .refine((s) => s.trim() === '' || (RESOURCE_GROUP.test(s) && !s.endsWith('.')), 'must be an Azure resource group name')
  .transform((s) => (s.trim() === '' ? undefined : s));

/** A Log Analytics workspace name (letters, digits, `-`, `_`, at most 63), or blank, which reads as not given. */
export const workspaceName = text
  .refine((s) => s.trim() === '' || WORKSPACE_NAME.test(s), 'must be a Log Analytics workspace name')
  .transform((s) => (s.trim() === '' ? undefined : s));

/** A string with something in it besides white space. */
export const requiredText = text.refine((s) => s.trim() !== '', 'must not be empty');

/**
 * An identifier we key on (an alert id): besides being required, no control character and no unpaired
 * surrogate, which no genuine id holds and which break URL encoding and storage.
 */
export const identifierText = requiredText.refine(
  (s) => !/[\u0000-\u001f\u007f]/.test(s) && !hasLoneSurrogate(s),
  'must not contain control characters or unpaired surrogates',
);

/** A GUID (8-4-4-4-12 hex, any case), given back lower-cased. */
export function guidText(message = 'must be a GUID'): z.ZodType<string, unknown> {
  return text.regex(GUID_PATTERN, message).transform((s) => s.toLowerCase());
}

/**
 * A Sentinel incident's ARM id (`/subscriptions/…/providers/Microsoft.SecurityInsights/incidents/<name>`),
 * given back as posted (`id`) and split (`arm`). Checking the shape here means no caller ever builds an ARM
 * URL from a path with `..`, `?` or `#` in it.
 */
export function incidentArmIdField(base: z.ZodType<string, unknown>, message: string): z.ZodType<{ id: string; arm: IncidentArmId }, unknown> {
  return base.transform((id, ctx) => {
    const arm = parseIncidentArmId(id);
    if (arm === undefined) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return { id, arm };
  });
}

/**
 * Sentinel's four severities in any letter case. Anything else (absent, unknown, not a string) reads as not
 * given, so an odd severity never blocks containment; the caller decides the default.
 */
export const severityField = boundedValue.transform((v) => matchSeverity(v));

/** An https URL: it ends up as a link in tickets and approval pages, where `javascript:` must not. */
export const httpsUrl = text.refine(isHttpsUrl, 'must be an https URL');

function isHttpsUrl(value: string): boolean {
  if (hasLoneSurrogate(value)) {
    return false;
  }
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * A JSON array of `element`, read as own elements (a hole or accessor reads as undefined, never from
 * `Array.prototype`). `what` names the expected content in the type error: `must be an array, got …`.
 */
export function jsonArray<T extends z.ZodType>(element: T, what = 'an array') {
  return z.preprocess(
    (value) => (Array.isArray(value) ? ownElements(value) : value),
    z.array(element, { error: (issue) => `must be ${what}, got ${describeType(issue.input)}` }),
  );
}
