import { z } from 'zod';
import type { Severity } from './alert-types';

/** The four Sentinel severities; parse with {@link normalizeSeverity} to accept any letter case. */
export const severitySchema = z.enum(['High', 'Medium', 'Low', 'Informational']);

const BY_LOWER: ReadonlyMap<string, Severity> = new Map(severitySchema.options.map((s) => [s.toLowerCase(), s]));

/** The Sentinel severity named by `value` in any letter case, or undefined when it names none. */
export function matchSeverity(value: unknown): Severity | undefined {
  return typeof value === 'string' ? BY_LOWER.get(value.trim().toLowerCase()) : undefined;
}

/**
 * Normalises a posted severity to one of the four values, case-insensitively; anything else (absent,
 * unknown, not a string) becomes `Medium`, so an odd severity never blocks containment.
 *
 * @example
 * normalizeSeverity('HIGH');     // 'High'
 * normalizeSeverity('critical'); // 'Medium'
 */
export function normalizeSeverity(value: unknown): Severity {
  return matchSeverity(value) ?? 'Medium';
}
