/**
 * Which application permissions Graph accepts for each route (`METHOD template`, templates as in the OpenAPI
 * subset), from the permission tables of the Graph API reference and reference/graph/api-facts.md with its
 * corrections. Each route lists its least-privileged set and the higher-privileged sets the docs name; a call is
 * allowed when the token holds every permission of one set. Where the docs print something odd (agent identity
 * sponsors: AgentIdentity.ReadWrite.All, nothing read-only) the table follows the docs, so the simulator refuses
 * what Graph would refuse.
 */

/** One way to be allowed: every permission of the set. */
export type PermissionSet = readonly string[];

export interface RoutePermission {
  /** The documented least-privileged permissions (all of them are needed). */
  least: PermissionSet;
  /** The documented higher-privileged alternatives, each a complete set. */
  higher: readonly PermissionSet[];
}

const route = (least: PermissionSet, ...higher: PermissionSet[]): RoutePermission => ({ least, higher });

// Families that many routes share, as their reference pages list them.
const appRead = route(['Application.Read.All'], ['Application.ReadWrite.All'], ['Directory.Read.All'], ['Directory.ReadWrite.All']);
const appWrite = route(['Application.ReadWrite.All'], ['Directory.ReadWrite.All']);
const userRead = route(['User.Read.All'], ['User.ReadWrite.All'], ['Directory.Read.All'], ['Directory.ReadWrite.All']);
const dirRead = route(['Directory.Read.All'], ['Directory.ReadWrite.All']);
const riskySpRead = route(['IdentityRiskyServicePrincipal.Read.All'], ['IdentityRiskyServicePrincipal.ReadWrite.All']);
const riskySpWrite = route(['IdentityRiskyServicePrincipal.ReadWrite.All']);
const riskyUserWrite = route(['IdentityRiskyUser.ReadWrite.All']);
const riskyAgentWrite = route(['IdentityRiskyAgent.ReadWrite.All']);
const riskEvents = route(['IdentityRiskEvent.Read.All'], ['IdentityRiskEvent.ReadWrite.All']);

export const ROUTE_PERMISSIONS: Readonly<Record<string, RoutePermission>> = {
  'GET /identityProtection/riskyServicePrincipals': riskySpRead,
  'GET /identityProtection/riskyServicePrincipals/{riskyServicePrincipal-id}': riskySpRead,
  'GET /identityProtection/riskyServicePrincipals/{riskyServicePrincipal-id}/history': riskySpRead,
  'POST /identityProtection/riskyServicePrincipals/microsoft.graph.confirmCompromised': riskySpWrite,
  'POST /identityProtection/riskyServicePrincipals/microsoft.graph.dismiss': riskySpWrite,
  'GET /identityProtection/servicePrincipalRiskDetections': riskEvents,
  'GET /identityProtection/riskDetections': riskEvents,
  'GET /identityProtection/agentRiskDetections': riskEvents,
  'GET /identityProtection/riskyUsers': route(['IdentityRiskyUser.Read.All'], ['IdentityRiskyUser.ReadWrite.All']),
  'POST /identityProtection/riskyUsers/microsoft.graph.confirmCompromised': riskyUserWrite,
  'POST /identityProtection/riskyUsers/microsoft.graph.dismiss': riskyUserWrite,
  'GET /identityProtection/riskyAgents': route(['IdentityRiskyAgent.Read.All'], ['IdentityRiskyAgent.ReadWrite.All']),
  'POST /identityProtection/riskyAgents/microsoft.graph.confirmCompromised': riskyAgentWrite,
  'POST /identityProtection/riskyAgents/microsoft.graph.dismiss': riskyAgentWrite,
  'POST /identityProtection/riskyAgents/microsoft.graph.confirmSafe': riskyAgentWrite,
  'POST /users/{user-id}/microsoft.graph.revokeSignInSessions': route(['User.RevokeSessions.All'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All']),
  'GET /users/{user-id}': userRead,
  'PATCH /users/{user-id}': route(['User.EnableDisableAccount.All', 'User.Read.All'], ['User.ReadWrite.All'], ['Directory.ReadWrite.All']),
  'GET /users/{user-id}/sponsors': userRead,
  'GET /users/{user-id}/memberOf': route(['GroupMember.Read.All'], ['Group.Read.All'], ['Directory.Read.All'], ['Directory.ReadWrite.All']),
  // directoryObject: checkMemberGroups, "Group memberships for a user" (application).
  'POST /users/{user-id}/microsoft.graph.checkMemberGroups': route(['User.Read.All', 'GroupMember.Read.All'], ['User.Read.All', 'Group.Read.All'], ['Directory.Read.All']),
  'GET /groups/{group-id}/transitiveMembers': route(
    ['GroupMember.ReadBasic.All'],
    ['Directory.Read.All'],
    ['Group.Read.All'],
    ['Group.ReadBasic.All'],
    ['Group.ReadWrite.All'],
    ['GroupMember.Read.All'],
    ['GroupMember.ReadWrite.All'],
  ),
  'POST /users/{user-id}/microsoft.graph.sendMail': route(['Mail.Send']),
  'GET /users/microsoft.graph.agentUser': userRead,
  'PATCH /users/{user-id}/microsoft.graph.agentUser': route(['AgentIdUser.ReadWrite.IdentityParentedBy']),
  'DELETE /users/{user-id}/microsoft.graph.agentUser': route(['AgentIdUser.ReadWrite.IdentityParentedBy']),
  'GET /servicePrincipals': appRead,
  'GET /servicePrincipals/{servicePrincipal-id}': appRead,
  "GET /servicePrincipals(appId='{appId}')": appRead,
  // Application.ReadWrite.OwnedBy also allows these four on service principals the caller owns (see OWNED_BY_ROUTES).
  'PATCH /servicePrincipals/{servicePrincipal-id}': appWrite,
  'DELETE /servicePrincipals/{servicePrincipal-id}': appWrite,
  'POST /servicePrincipals/{servicePrincipal-id}/microsoft.graph.removePassword': appWrite,
  'POST /servicePrincipals/{servicePrincipal-id}/microsoft.graph.removeKey': appWrite,
  'GET /servicePrincipals/{servicePrincipal-id}/owners': appRead,
  'GET /servicePrincipals/{servicePrincipal-id}/appRoleAssignments': appRead,
  'DELETE /servicePrincipals/{servicePrincipal-id}/appRoleAssignments/{appRoleAssignment-id}': route(['AppRoleAssignment.ReadWrite.All'], ['Directory.ReadWrite.All']),
  'GET /servicePrincipals/{servicePrincipal-id}/oauth2PermissionGrants': dirRead,
  'DELETE /oauth2PermissionGrants/{oAuth2PermissionGrant-id}': route(['DelegatedPermissionGrant.ReadWrite.All'], ['Directory.ReadWrite.All']),
  'GET /servicePrincipals/microsoft.graph.agentIdentity': route(['AgentIdentity.Read.All'], ['AgentIdentity.ReadWrite.All']),
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity': route(['AgentIdentity.Read.All'], ['Application.Read.All']),
  'PATCH /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity': route(['AgentIdentity.EnableDisable.All'], ['AgentIdentity.ReadWrite.All']),
  'DELETE /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity': route(['AgentIdentity.DeleteRestore.All']),
  // NOTE: the page lists no read-only permission and no higher one (api-facts.md, corrections).
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity/sponsors': route(['AgentIdentity.ReadWrite.All']),
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity/owners': route(['AgentIdentity.Read.All'], ['Application.Read.All']),
  // NOTE: the list accepts only its own permissions; Application.Read.All is named on the GET-by-id page alone.
  'GET /servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal': route(
    ['AgentIdentityBlueprintPrincipal.Read.All'],
    ['AgentIdentityBlueprintPrincipal.ReadWrite.All'],
  ),
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal': route(
    ['AgentIdentityBlueprintPrincipal.Read.All'],
    ['AgentIdentityBlueprintPrincipal.ReadWrite.All'],
    ['Application.Read.All'],
  ),
  'PATCH /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal': route(
    ['AgentIdentityBlueprintPrincipal.EnableDisable.All'],
    ['AgentIdentityBlueprintPrincipal.ReadWrite.All'],
  ),
  'DELETE /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal': route(
    ['AgentIdentityBlueprintPrincipal.DeleteRestore.All'],
    ['AgentIdentityBlueprintPrincipal.ReadWrite.All'],
  ),
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal/sponsors': appRead,
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal/owners': appRead,
  'GET /applications/microsoft.graph.agentIdentityBlueprint': route(['AgentIdentityBlueprint.Read.All'], ['Application.Read.All'], ['Directory.Read.All']),
  'GET /applications/{application-id}/microsoft.graph.agentIdentityBlueprint/sponsors': appRead,
  'GET /directory/customSecurityAttributeDefinitions': route(['CustomSecAttributeDefinition.Read.All']),
  'POST /directoryObjects/microsoft.graph.getByIds': dirRead,
  'GET /directoryObjects/{directoryObject-id}': dirRead,
};

/**
 * The first least-privileged permission of each route: one name per route, for messages and for tests that
 * build a grant "everything but X".
 */
export const REQUIRED_PERMISSIONS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(ROUTE_PERMISSIONS).map(([key, p]) => [key, p.least[0] ?? '']),
);

/** Routes where Application.ReadWrite.OwnedBy suffices for service principals the caller owns. */
export const OWNED_BY_ROUTES: ReadonlySet<string> = new Set([
  'PATCH /servicePrincipals/{servicePrincipal-id}',
  'DELETE /servicePrincipals/{servicePrincipal-id}',
  'POST /servicePrincipals/{servicePrincipal-id}/microsoft.graph.removePassword',
  'POST /servicePrincipals/{servicePrincipal-id}/microsoft.graph.removeKey',
]);

/** Reading custom security attributes needs this on top of the route's permission. */
export const CSA_READ_PERMISSION = 'CustomSecAttributeAssignment.Read.All';

/** Every permission named above: what a token carries when `grantedPermissions` is `'all'`. */
export function allPermissions(): string[] {
  const least = Object.values(ROUTE_PERMISSIONS).flatMap((p) => p.least);
  return [...new Set([...least, CSA_READ_PERMISSION, 'Application.ReadWrite.OwnedBy'])].sort();
}

/** Whether `granted` holds every permission of one of the route's documented sets. */
export function allowsRoute(granted: readonly string[] | 'all', permission: RoutePermission): boolean {
  if (granted === 'all') {
    return true;
  }
  return [permission.least, ...permission.higher].some((set) => set.every((p) => granted.includes(p)));
}

/** Whether `granted` holds one permission (or a documented higher one for reading custom security attributes). */
export function hasPermission(granted: readonly string[] | 'all', required: string): boolean {
  if (granted === 'all' || granted.includes(required)) {
    return true;
  }
  return required === CSA_READ_PERMISSION && granted.includes('CustomSecAttributeAssignment.ReadWrite.All');
}

/** The permissions still missing for a route: the least-privileged set minus what is granted (for 403 messages). */
export function missingForRoute(granted: readonly string[] | 'all', permission: RoutePermission): string[] {
  return granted === 'all' ? [] : permission.least.filter((p) => !granted.includes(p));
}
