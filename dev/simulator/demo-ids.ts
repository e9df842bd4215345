/**
 * Key ids of the demo tenant (`demo-tenant.json`), so tests and benchmarks never hard-code GUIDs.
 * The GUIDs are chosen to be recognisable in logs: `a9e…` agents, `b1e…` blueprint, `c1a…` classic SPs,
 * `f1a…` first party, `da7a…` the human sponsor, `a99a…` approvers.
 */
export const DEMO = {
  tenantId: 'c0de0000-0000-4000-8000-000000000000',
  responder: {
    objectId: 'a0000000-0000-4000-8000-000000000001',
    appId: 'a0000000-0000-4000-8000-0000000000a1',
    displayName: 'Agent Responder',
  },
  agents: {
    /** Normal agent with a sponsor and an owner; the demo incident names it. */
    invoice: 'a9e00000-0000-4000-8000-000000000001',
    /** Tag `agent-expires:2026-01-31`: past its end date. */
    expired: 'a9e00000-0000-4000-8000-000000000002',
    /** Custom security attribute `AgentLifecycle.ExpiresOn` a few days after the seed is loaded. */
    expiring: 'a9e00000-0000-4000-8000-000000000003',
    /** No sponsor and no owner. */
    orphan: 'a9e00000-0000-4000-8000-000000000004',
  },
  agentAppIds: {
    invoice: 'a9e0a000-0000-4000-8000-000000000001',
    expired: 'a9e0a000-0000-4000-8000-000000000002',
    expiring: 'a9e0a000-0000-4000-8000-000000000003',
    orphan: 'a9e0a000-0000-4000-8000-000000000004',
  },
  /** The blueprint application (`#microsoft.graph.agentIdentityBlueprint`). */
  blueprintApp: 'b1e00000-0000-4000-8000-000000000001',
  /** appId of the blueprint; agents carry it in `agentIdentityBlueprintId`. */
  blueprintAppId: 'b1e0a000-0000-4000-8000-000000000001',
  /** The blueprint principal (`#microsoft.graph.agentIdentityBlueprintPrincipal`); invoice and expiring belong to it. */
  blueprintPrincipal: 'b1e00000-0000-4000-8000-000000000002',
  /** appId of a third-party blueprint with no principal in this tenant (expired and orphan agents). */
  foreignBlueprintAppId: 'b1e0a000-0000-4000-8000-0000000000ff',
  /** Classic service principal tagged `agent`. */
  classicSp: 'c1a55000-0000-4000-8000-000000000001',
  classicSpAppId: 'c1a5a000-0000-4000-8000-000000000001',
  /** Classic service principal without the tag. */
  plainSp: 'c1a55000-0000-4000-8000-000000000002',
  plainSpAppId: 'c1a5a000-0000-4000-8000-000000000002',
  /** Microsoft Graph's own service principal (Microsoft first party). */
  firstPartySp: 'f1a57000-0000-4000-8000-000000000001',
  firstPartyAppId: '00000003-0000-0000-c000-000000000000',
  firstPartyTenantId: 'f8cdef31-a31e-4b4a-93e4-5f571e91255a',
  /** Agent users: [0] parented by invoice, [1] by expiring. */
  agentUsers: ['a9e05e00-0000-4000-8000-000000000001', 'a9e05e00-0000-4000-8000-000000000002'] as const,
  agentUserUpns: ['invoice-agent@contoso.example', 'expiring-agent@contoso.example'] as const,
  /** Human user, sponsor and owner of the agents. */
  human: 'da7a0000-0000-4000-8000-000000000001',
  humanUpn: 'dana.sponsor@contoso.example',
  /** Approvers: [0] and [1] directly, [2] through the Agent Approvers group. */
  approvers: [
    'a99a0000-0000-4000-8000-000000000001',
    'a99a0000-0000-4000-8000-000000000002',
    'a99a0000-0000-4000-8000-000000000003',
  ] as const,
  approverUpns: ['soc-lead@contoso.example', 'sec-manager@contoso.example', 'oncall@contoso.example'] as const,
  approverGroup: 'a99a6000-0000-4000-8000-000000000001',
  /** The mailbox the responder sends approval mail from. */
  mailbox: 'e0a10000-0000-4000-8000-000000000001',
  mailboxUpn: 'responder-mail@contoso.example',
  workspace: {
    subscriptionId: '11111111-2222-3333-4444-555555555555',
    resourceGroup: 'soc-rg',
    workspaceName: 'soc-ws',
    /** The workspace's customer id ("Workspace ID"), which the Log Analytics query API and alert triggers name. */
    customerId: '9d0f3b6a-0000-4000-8000-0000000000a1',
  },
  /** `SecurityAlert` rows of the demo workspace: the demo incident's alert, and the alert-trigger fixture's. */
  alerts: {
    incident: 'a1e70000-0000-4000-8000-000000000001',
    fixture: 'dddddddd-0000-4000-8000-000000000004',
  },
  incident: {
    name: '8f1c2d3e-0000-4000-8000-000000000001',
    armId:
      '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/soc-rg/providers/Microsoft.OperationalInsights/workspaces/soc-ws/providers/Microsoft.SecurityInsights/incidents/8f1c2d3e-0000-4000-8000-000000000001',
  },
} as const;
