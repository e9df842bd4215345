import type { Config } from '../config';

/**
 * Features of `infra/grant-graph-permissions.sh --features`: each one is a set of Microsoft Graph application
 * permissions. The two `sp-disable-*` features are opt-ins a person chooses at deploy time; the others follow
 * from the settings (see {@link enabledGraphFeatures}).
 */
export const GRAPH_FEATURES = [
  'containment',
  'approvals',
  'lifecycle',
  'lifecycle-delete',
  'lifecycle-expiry-attribute',
  'mail',
  'sp-disable-owned',
  'sp-disable-any',
] as const;

export type GraphFeature = (typeof GRAPH_FEATURES)[number];

/**
 * The permissions each feature needs, as the grant script grants them. The script's table (and the JSON generated
 * from it, `infra/graph-permissions.json`) is the source; the app cannot read `infra/`, so this copy is checked
 * against it by `test/unit/infra/permission-table.test.ts`, which fails on any difference.
 */
export const FEATURE_PERMISSIONS: Readonly<Record<GraphFeature, readonly string[]>> = {
  containment: [
    'Directory.Read.All',
    'Application.Read.All',
    'User.Read.All',
    'AgentIdentity.EnableDisable.All',
    'AgentIdentityBlueprintPrincipal.EnableDisable.All',
    'IdentityRiskyAgent.ReadWrite.All',
    'IdentityRiskyServicePrincipal.ReadWrite.All',
    'IdentityRiskyUser.ReadWrite.All',
    'User.RevokeSessions.All',
  ],
  approvals: ['Directory.Read.All', 'User.Read.All', 'GroupMember.Read.All', 'AgentIdentity.ReadWrite.All', 'Application.Read.All'],
  lifecycle: [
    'AgentIdentity.Read.All',
    'AgentIdentityBlueprintPrincipal.Read.All',
    'Application.Read.All',
    'AgentIdentity.ReadWrite.All',
    'Directory.Read.All',
    'AgentIdentity.EnableDisable.All',
    'AgentIdentityBlueprintPrincipal.EnableDisable.All',
  ],
  'lifecycle-delete': ['AgentIdentity.DeleteRestore.All', 'AgentIdentityBlueprintPrincipal.DeleteRestore.All'],
  'lifecycle-expiry-attribute': ['CustomSecAttributeAssignment.Read.All'],
  mail: ['Mail.Send'],
  'sp-disable-owned': ['Application.ReadWrite.OwnedBy'],
  'sp-disable-any': ['Application.ReadWrite.All'],
};

/**
 * The features the settings turn on. Containment and the lifecycle timers always run; the classic service
 * principal opt-ins are not settings (the app reports which one its token carries instead).
 */
export function enabledGraphFeatures(config: Pick<Config, 'APPROVAL_SIGNING_KEY' | 'APPROVAL_MAIL_SENDER' | 'LIFECYCLE_DELETE_ENABLED' | 'LIFECYCLE_EXPIRY_ATTRIBUTE'>): GraphFeature[] {
  const features: GraphFeature[] = ['containment', 'lifecycle'];
  if (config.APPROVAL_SIGNING_KEY !== undefined) {
    features.push('approvals');
  }
  if (config.APPROVAL_MAIL_SENDER !== undefined) {
    features.push('mail');
  }
  if (config.LIFECYCLE_DELETE_ENABLED) {
    features.push('lifecycle-delete');
  }
  if (config.LIFECYCLE_EXPIRY_ATTRIBUTE !== undefined) {
    features.push('lifecycle-expiry-attribute');
  }
  return features;
}
