import { z } from 'zod';
import { ValidationError } from '../errors';
import { targetKey, type ParsedAlert, type Severity, type TargetRef } from './alert-types';
import { canonicalJson, shortHash } from './canonical-json';
import { collectTargets } from './collect-targets';
import { MAX_FIELD_LENGTH } from './field-schemas';
import { GUID_PATTERN } from '../is-guid';
import { issuesToFields } from './issues-to-fields';
import { isUpn, MAX_UPN_LENGTH } from './is-upn';
import { wellFormed } from './json-value';
import { matchSeverity } from './normalize-severity';
import { parseIncidentArmId } from '../sentinel/incident-arm-id';

// Re-exported for callers that validate their own requests the same way (release requests).
export { issuesToFields } from './issues-to-fields';

/**
 * Most targets one direct request may name. An operator's request, not a Sentinel body: a request about
 * hundreds of identities is refused rather than held for a single approval.
 */
export const MAX_DIRECT_TARGETS = 500;

/** One target of a direct request: exactly one of `id` (object id), `appId` or `upn`. */
export const DirectTarget = z
  .strictObject({
    id: z.string().regex(GUID_PATTERN, 'must be a GUID (the directory object id)').optional(),
    appId: z.string().regex(GUID_PATTERN, 'must be a GUID (the application id)').optional(),
    upn: z
      .string()
      .max(MAX_UPN_LENGTH, `must be at most ${MAX_UPN_LENGTH} characters`)
      .refine(isUpn, 'must be a UPN: exactly one "@" with a non-empty name and domain, no spaces')
      .optional(),
  })
  .superRefine((t, ctx) => {
    const given = [t.id, t.appId, t.upn].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: given === 0 ? 'needs one of id, appId or upn' : 'must have exactly one of id, appId or upn',
      });
    }
  });
export type DirectTarget = z.infer<typeof DirectTarget>;

/**
 * `POST /alerts` from an operator or automation that is not a Sentinel playbook. Strict: unknown keys are
 * refused by name, so a typo (`target`, `objectId`) is a 400 rather than a silently ignored field.
 */
export const DirectRequest = z.strictObject({
  targets: z
    .array(DirectTarget)
    .min(1, 'must name at least one target')
    .max(MAX_DIRECT_TARGETS, `must name at most ${MAX_DIRECT_TARGETS} targets`),
  // The title of the case: kept well-formed, as every text shown from a body is.
  reason: z.string().trim().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters').transform(wellFormed),
  severity: z
    .string()
    .max(100)
    .refine((s) => matchSeverity(s) !== undefined, 'must be High, Medium, Low or Informational')
    .optional(),
  incidentArmId: z
    .string()
    .max(MAX_FIELD_LENGTH)
    .refine((s) => parseIncidentArmId(s) !== undefined, 'must be a Microsoft Sentinel incident ARM id')
    .optional(),
});
export type DirectRequest = z.infer<typeof DirectRequest>;

/**
 * Parses a direct request into a {@link ParsedAlert}; throws a {@link ValidationError} naming every bad
 * field by JSON path (`targets[1].id`, `reason`, unknown keys such as `targets[0].objectId`).
 */
export function parseDirectRequest(body: unknown): ParsedAlert {
  const result = DirectRequest.safeParse(body);
  if (!result.success) {
    throw new ValidationError('The direct request is invalid.', issuesToFields(result.error.issues));
  }
  const req = result.data;
  const severity: Severity = matchSeverity(req.severity) ?? 'Medium';
  const targets = collectTargets(req.targets.map(toTargetRef));
  const arm = req.incidentArmId === undefined ? undefined : parseIncidentArmId(req.incidentArmId);

  // The same request sent twice hashes the same whatever the target order, duplicates or letter case.
  const canonical = canonicalJson({
    targets: targets.map(targetKey).sort(),
    reason: req.reason,
    severity,
    incidentArmId: req.incidentArmId?.toLowerCase() ?? null,
  });

  return {
    source: 'direct',
    dedupeKey: `direct:${shortHash(canonical ?? '')}`,
    ...(req.incidentArmId === undefined ? {} : { incidentArmId: req.incidentArmId }),
    ...(arm === undefined ? {} : { workspace: arm.workspace }),
    title: req.reason,
    severity,
    ...(req.severity === undefined ? { severityDefaulted: true as const } : {}),
    targets,
    rejected: [],
  };
}

function toTargetRef(t: DirectTarget): TargetRef {
  if (t.id !== undefined) {
    return { by: 'objectId', objectId: t.id.toLowerCase() };
  }
  if (t.appId !== undefined) {
    return { by: 'appId', appId: t.appId.toLowerCase() };
  }
  return { by: 'upn', upn: (t.upn ?? '').toLowerCase() };
}
