import type { TokenCredential } from '@azure/identity';
import { GRAPH_SCOPE } from '../graph/graph-client';
import { readTokenClaims } from '../identity/token-claims';
import { ensureError } from '../errors';
import { FEATURE_PERMISSIONS, type GraphFeature } from './graph-permission-table';

/** What the responder may do to classic (non-agent) service principals, from the permission its token carries. */
export type ClassicServicePrincipalReach = 'any' | 'owned' | 'none';

export interface GraphPermissionReport {
  /** `unknown` when the token could not be read: that says nothing about the grants, so it is no verdict. */
  status: 'ok' | 'missing' | 'unknown';
  /** Each enabled feature that lacks a permission, with the permissions it lacks. */
  missing: { feature: GraphFeature; permissions: string[] }[];
  classicServicePrincipals?: ClassicServicePrincipalReach;
  detail?: string;
}

/**
 * Compares the `roles` of our own Graph token with what the enabled features need. Exact names are compared: the
 * grant script grants exactly these, so a broader permission granted by hand shows up here as missing (and as a
 * `?` line in the script's report) for a person to look at.
 */
export function compareGraphRoles(features: readonly GraphFeature[], roles: readonly string[]): GraphPermissionReport {
  const held = new Set(roles);
  const missing = features
    .map((feature) => ({ feature, permissions: FEATURE_PERMISSIONS[feature].filter((p) => !held.has(p)) }))
    .filter((m) => m.permissions.length > 0);
  const classicServicePrincipals: ClassicServicePrincipalReach = held.has('Application.ReadWrite.All')
    ? 'any'
    : held.has('Application.ReadWrite.OwnedBy')
      ? 'owned'
      : 'none';
  return { status: missing.length > 0 ? 'missing' : 'ok', missing, classicServicePrincipals };
}

/**
 * Reads our own managed identity's Graph token and reports the enabled features whose permissions it lacks.
 * Never throws: a token that cannot be fetched is reported as `unknown` with the reason (without the token).
 */
export async function checkGraphPermissions(credential: TokenCredential, features: readonly GraphFeature[]): Promise<GraphPermissionReport> {
  let token: string | undefined;
  try {
    token = (await credential.getToken(GRAPH_SCOPE))?.token;
  } catch (err) {
    return { status: 'unknown', missing: [], detail: `no Graph token for the managed identity: ${ensureError(err).message}` };
  }
  if (token === undefined) {
    return { status: 'unknown', missing: [], detail: 'no Graph token for the managed identity' };
  }
  const roles = readTokenClaims(token)?.['roles'];
  // A token without a roles claim has no application permission at all.
  const list = Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
  return compareGraphRoles(features, list);
}
