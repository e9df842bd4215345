/**
 * Least-privileged application permission per Graph route (`METHOD template`, templates as in the OpenAPI
 * subset), from reference/graph/api-facts.md and the subset's `x-docs`. Where the docs print something odd
 * (agent identity sponsors: AgentIdentity.ReadWrite.All) the table follows the docs, so the simulator refuses
 * what Graph would refuse.
 */
export const REQUIRED_PERMISSIONS: Readonly<Record<string, string>> = {
  'GET /identityProtection/riskyServicePrincipals': 'IdentityRiskyServicePrincipal.Read.All',
  'GET /identityProtection/riskyServicePrincipals/{riskyServicePrincipal-id}': 'IdentityRiskyServicePrincipal.Read.All',
  'GET /identityProtection/riskyServicePrincipals/{riskyServicePrincipal-id}/history':
    'IdentityRiskyServicePrincipal.Read.All',
  'POST /identityProtection/riskyServicePrincipals/microsoft.graph.confirmCompromised':
    'IdentityRiskyServicePrincipal.ReadWrite.All',
  'POST /identityProtection/riskyServicePrincipals/microsoft.graph.dismiss': 'IdentityRiskyServicePrincipal.ReadWrite.All',
  'GET /identityProtection/servicePrincipalRiskDetections': 'IdentityRiskEvent.Read.All',
  'GET /identityProtection/riskDetections': 'IdentityRiskEvent.Read.All',
  'GET /identityProtection/agentRiskDetections': 'IdentityRiskEvent.Read.All',
  'GET /identityProtection/riskyUsers': 'IdentityRiskyUser.Read.All',
  'POST /identityProtection/riskyUsers/microsoft.graph.confirmCompromised': 'IdentityRiskyUser.ReadWrite.All',
  'POST /identityProtection/riskyUsers/microsoft.graph.dismiss': 'IdentityRiskyUser.ReadWrite.All',
  'GET /identityProtection/riskyAgents': 'IdentityRiskyAgent.Read.All',
  'POST /identityProtection/riskyAgents/microsoft.graph.confirmCompromised': 'IdentityRiskyAgent.ReadWrite.All',
  'POST /identityProtection/riskyAgents/microsoft.graph.dismiss': 'IdentityRiskyAgent.ReadWrite.All',
  'POST /identityProtection/riskyAgents/microsoft.graph.confirmSafe': 'IdentityRiskyAgent.ReadWrite.All',
  'POST /users/{user-id}/microsoft.graph.revokeSignInSessions': 'User.RevokeSessions.All',
  'GET /users/{user-id}': 'User.Read.All',
  'PATCH /users/{user-id}': 'User.EnableDisableAccount.All',
  'GET /users/{user-id}/sponsors': 'User.Read.All',
  'GET /users/{user-id}/memberOf': 'GroupMember.Read.All',
  'GET /groups/{group-id}/transitiveMembers': 'GroupMember.Read.All',
  'POST /users/{user-id}/microsoft.graph.checkMemberGroups': 'GroupMember.Read.All',
  'POST /users/{user-id}/microsoft.graph.sendMail': 'Mail.Send',
  'GET /users/microsoft.graph.agentUser': 'User.Read.All',
  'PATCH /users/{user-id}/microsoft.graph.agentUser': 'AgentIdUser.ReadWrite.IdentityParentedBy',
  'DELETE /users/{user-id}/microsoft.graph.agentUser': 'AgentIdUser.ReadWrite.IdentityParentedBy',
  'GET /servicePrincipals': 'Application.Read.All',
  'GET /servicePrincipals/{servicePrincipal-id}': 'Application.Read.All',
  "GET /servicePrincipals(appId='{appId}')": 'Application.Read.All',
  'PATCH /servicePrincipals/{servicePrincipal-id}': 'Application.ReadWrite.All',
  'DELETE /servicePrincipals/{servicePrincipal-id}': 'Application.ReadWrite.All',
  'POST /servicePrincipals/{servicePrincipal-id}/microsoft.graph.removePassword': 'Application.ReadWrite.All',
  'POST /servicePrincipals/{servicePrincipal-id}/microsoft.graph.removeKey': 'Application.ReadWrite.All',
  'GET /servicePrincipals/{servicePrincipal-id}/owners': 'Application.Read.All',
  'GET /servicePrincipals/{servicePrincipal-id}/appRoleAssignments': 'Application.Read.All',
  'DELETE /servicePrincipals/{servicePrincipal-id}/appRoleAssignments/{appRoleAssignment-id}':
    'AppRoleAssignment.ReadWrite.All',
  'GET /servicePrincipals/{servicePrincipal-id}/oauth2PermissionGrants': 'Directory.Read.All',
  'DELETE /oauth2PermissionGrants/{oAuth2PermissionGrant-id}': 'DelegatedPermissionGrant.ReadWrite.All',
  'GET /servicePrincipals/microsoft.graph.agentIdentity': 'AgentIdentity.Read.All',
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity': 'AgentIdentity.Read.All',
  'PATCH /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity': 'AgentIdentity.EnableDisable.All',
  'DELETE /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity': 'AgentIdentity.DeleteRestore.All',
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity/sponsors': 'AgentIdentity.ReadWrite.All',
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentity/owners': 'AgentIdentity.Read.All',
  'GET /servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal': 'AgentIdentityBlueprintPrincipal.Read.All',
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal':
    'AgentIdentityBlueprintPrincipal.Read.All',
  'PATCH /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal':
    'AgentIdentityBlueprintPrincipal.EnableDisable.All',
  'DELETE /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal':
    'AgentIdentityBlueprintPrincipal.DeleteRestore.All',
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal/sponsors':
    'Application.Read.All',
  'GET /servicePrincipals/{servicePrincipal-id}/microsoft.graph.agentIdentityBlueprintPrincipal/owners':
    'Application.Read.All',
  'GET /applications/microsoft.graph.agentIdentityBlueprint': 'AgentIdentityBlueprint.Read.All',
  'GET /applications/{application-id}/microsoft.graph.agentIdentityBlueprint/sponsors': 'Application.Read.All',
  'GET /directory/customSecurityAttributeDefinitions': 'CustomSecAttributeDefinition.Read.All',
  'POST /directoryObjects/microsoft.graph.getByIds': 'Directory.Read.All',
  'GET /directoryObjects/{directoryObject-id}': 'Directory.Read.All',
};

/** Reading custom security attributes needs this on top of the route's permission. */
export const CSA_READ_PERMISSION = 'CustomSecAttributeAssignment.Read.All';

/**
 * Broader permissions that also satisfy a narrower one (documented "higher privileged" permissions), so a
 * tenant granted the broad one is not refused by the simulator.
 */
const IMPLIED_BY: Readonly<Record<string, readonly string[]>> = {
  'Application.Read.All': ['Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  'Application.ReadWrite.All': ['Directory.ReadWrite.All'],
  'User.Read.All': ['User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  'User.EnableDisableAccount.All': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'GroupMember.Read.All': ['Group.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  'Directory.Read.All': ['Directory.ReadWrite.All'],
  'AgentIdentity.Read.All': ['AgentIdentity.ReadWrite.All', 'Application.Read.All', 'Directory.Read.All'],
  'AgentIdentityBlueprintPrincipal.Read.All': ['Application.Read.All', 'Directory.Read.All'],
  'AgentIdentityBlueprint.Read.All': ['Application.Read.All', 'Directory.Read.All'],
  'IdentityRiskyServicePrincipal.Read.All': ['IdentityRiskyServicePrincipal.ReadWrite.All'],
  'IdentityRiskyUser.Read.All': ['IdentityRiskyUser.ReadWrite.All'],
  'IdentityRiskyAgent.Read.All': ['IdentityRiskyAgent.ReadWrite.All'],
  'CustomSecAttributeAssignment.Read.All': ['CustomSecAttributeAssignment.ReadWrite.All'],
};

/** Every permission named above: what a token carries when `grantedPermissions` is `'all'`. */
export function allPermissions(): string[] {
  return [...new Set([...Object.values(REQUIRED_PERMISSIONS), CSA_READ_PERMISSION, 'Application.ReadWrite.OwnedBy'])].sort();
}

export function hasPermission(granted: readonly string[] | 'all', required: string): boolean {
  if (granted === 'all') {
    return true;
  }
  if (granted.includes(required)) {
    return true;
  }
  return (IMPLIED_BY[required] ?? []).some((p) => granted.includes(p));
}
