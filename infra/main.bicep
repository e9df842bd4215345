// Agent responders: Azure Functions (Flex Consumption, Node 22) app that contains compromised AI-agent identities in
// Microsoft Entra when Microsoft Sentinel posts incidents to it.
//
// Deploys into one resource group (`azd up`, which reads infra/main.parameters.json, or
// `az deployment group create -g <rg> -f infra/main.bicep`):
//   - user-assigned managed identity: the responder's only credential (Graph, ARM, Log Analytics, storage, Key Vault,
//     Application Insights, audit ingestion). User-assigned so Graph app roles can be granted before the code runs.
//   - storage account with shared keys disabled, reached only through identity-based connections.
//   - Flex Consumption plan (FC1) + function app (Node 22), deployment package in a blob container.
//   - Log Analytics + Application Insights with Entra-only ingestion.
//   - audit events for the SOC: a data collection endpoint and rule and the custom table AgentResponderAudit_CL (Logs
//     Ingestion API, identity granted Monitoring Metrics Publisher on the rule), and a Sentinel workbook over it.
//   - Key Vault (RBAC mode) holding the secrets; the app reads them only through Key Vault references. The approval
//     signing key is NOT created here: infra/hooks/ensure-signing-key.sh creates it once, after provisioning (see there).
//   - App Service Authentication (Microsoft Entra, token store on) whenever approvals are on; the deployment FAILS if
//     approvals are on and no app registration is given, so approvals never run without a verified sign-in.
//   - Microsoft Sentinel Responder and Log Analytics Reader on each Sentinel workspace in sentinelWorkspaces.
//
// Graph application permissions are NOT granted here (a resource-group deployment has no directory rights):
// the azd postprovision hook runs infra/grant-graph-permissions.sh with the principalId output.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------------------------
// Deployment shape
// ---------------------------------------------------------------------------------------------------------------

@description('Azure region. Must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@minLength(1)
@maxLength(20)
@description('Short name used in resource names and the azd-env-name tag (AZURE_ENV_NAME).')
param environmentName string = 'agent-responders'

@description('Function app name; generated from environmentName when empty.')
param functionAppName string = ''

@allowed(['22', '20'])
@description('Node.js major version for the Flex Consumption runtime. Node 20 reached its end of life in April 2026.')
param nodeVersion string = '22'

@minValue(40)
@maxValue(1000)
@description('Flex Consumption scale-out limit.')
param maximumInstanceCount int = 40

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Object id of the person or pipeline deploying (azd sets AZURE_PRINCIPAL_ID). Optional; nothing is granted to it here.')
param deployerPrincipalId string = ''

@allowed(['default', 'recover'])
@description('recover: bring back a soft-deleted Key Vault of the same name (after azd down without purge), keeping its signing key.')
param keyVaultCreateMode string = 'default'

// ---------------------------------------------------------------------------------------------------------------
// Sign-in (App Service Authentication) and approvals
// ---------------------------------------------------------------------------------------------------------------

@allowed(['true', 'false'])
@description('Approvals (held containments, releases, blueprint principals, direct requests). Needs authClientId.')
param approvalsEnabled string = 'true'

@description('Application (client) id of the Entra app registration for sign-in (approval and case pages) and the playbooks\' token audience.')
param authClientId string = ''

@description('Extra accepted token audiences (e.g. a custom Application ID URI). api://<authClientId> and <authClientId> are always accepted.')
param authAllowedAudiences array = []

// ---------------------------------------------------------------------------------------------------------------
// App settings: one parameter per optional setting of shared/config.ts, with the same default. Strings throughout,
// because azd substitutes them from its environment as text; the app parses and checks each one (a bad value stops
// start-up naming the setting).
// ---------------------------------------------------------------------------------------------------------------

param graphEndpoint string = 'https://graph.microsoft.com'
param armEndpoint string = 'https://management.azure.com'
@description('Log Analytics query API, used to re-read Sentinel alerts at their source (token audience https://api.loganalytics.io).')
param logAnalyticsEndpoint string = 'https://api.loganalytics.io'

@allowed(['enforce', 'report-only'])
@description('report-only plans and records every step and changes nothing. Switch to enforce after a dry run.')
param responderMode string = 'report-only'
@allowed(['true', 'false'])
@description('Stops every Graph, ARM and ticket write at the next step, queued and approved work included.')
param emergencyStop string = 'false'

@description('Object ids / appIds never acted on (comma-separated).')
param protectedIdentities string = ''
@description('Object ids / appIds whose containment always waits for approval (comma-separated).')
param requireApprovalIdentities string = ''
param blastRadiusPerHour string = '25'
@allowed(['true', 'false'])
@description('People (not agents) are confirmed compromised and signed out only when true.')
param containHumanUsers string = 'false'
@allowed(['Informational', 'Low', 'Medium', 'High'])
param minIncidentSeverity string = 'Low'

@allowed(['servicenow', 'jira', 'webhook', 'none'])
param ticketProvider string = 'none'
param servicenowInstanceUrl string = ''
param servicenowUsername string = ''
@secure()
@description('Written to Key Vault as SERVICENOW-PASSWORD when given; leave empty to keep the vault\'s value.')
param servicenowPassword string = ''
param jiraBaseUrl string = ''
param jiraEmail string = ''
@secure()
@description('Written to Key Vault as JIRA-API-TOKEN when given; leave empty to keep the vault\'s value.')
param jiraApiToken string = ''
param jiraProjectKey string = ''
param jiraIssueType string = 'Task'
param ticketWebhookUrl string = ''
@secure()
@description('Written to Key Vault as TICKET-WEBHOOK-SECRET when given (≥ 16 characters); leave empty to keep the vault\'s value.')
param ticketWebhookSecret string = ''

@allowed(['true', 'false'])
@description('Post approval requests and outcomes to a Teams channel (the workflow URL is a secret: Key Vault TEAMS-WEBHOOK-URL).')
param teamsNotifications string = 'false'
@secure()
@description('Teams Workflows webhook URL; written to Key Vault as TEAMS-WEBHOOK-URL when given.')
param teamsWebhookUrl string = ''

@description('Base URL of approval and case links; defaults to https://<app host> when approvals are on.')
param publicBaseUrl string = ''
@description('Object ids of users or groups allowed to approve (comma-separated).')
param approvers string = ''
@description('Object ids of users or groups allowed to view cases (comma-separated).')
param caseViewers string = ''
param approvalTtlHours string = '24'
param approvalQuorum string = '1'
param blueprintReleaseQuorum string = '2'
@description('Mailbox (UPN) that sends approval mail; needs the mail feature of grant-graph-permissions.sh.')
param approvalMailSender string = ''
param approvalExpirySchedule string = '0 */5 * * * *'

param lifecycleSweepSchedule string = '0 0 * * * *'
param lifecycleWarnDays string = '14'
param lifecycleGraceDays string = '30'
@allowed(['true', 'false'])
@description('Delete agents after the grace period; needs the lifecycle-delete feature of grant-graph-permissions.sh.')
param lifecycleDeleteEnabled string = 'false'
param lifecycleAgentTag string = 'agent'
param lifecycleExpiryTagPrefix string = 'agent-expires:'
@description('AttributeSet.AttributeName of a custom security attribute holding the end date; needs lifecycle-expiry-attribute.')
param lifecycleExpiryAttribute string = ''
param driftCheckSchedule string = '0 */15 * * * *'

@description('Object ids of callers allowed to post alerts: the playbooks\' managed identities (comma-separated).')
param intakeAllowedCallers string = ''
@description('Managed identities of the playbooks the postprovision hook deployed (it sets PLAYBOOK_PRINCIPAL_IDS); added to intakeAllowedCallers.')
param playbookPrincipalIds string = ''
@allowed(['true', 'false'])
@description('Enforce mode refuses to start with an empty caller allow-list unless this is true.')
param intakeAllowAnyCaller string = 'false'
@description('Sentinel workspaces as subscriptionId/resourceGroup/workspaceName (comma-separated).')
param sentinelWorkspaces string = ''
@allowed(['true', 'false'])
@description('Enforce mode refuses to start with an empty workspace allow-list unless this is true.')
param intakeAllowAnyWorkspace string = 'false'
@allowed(['true', 'false'])
param sentinelVerify string = 'true'
param sentinelVerifyDisabledWorkspaces string = ''
@allowed(['true', 'false'])
@description('Grant the identity Microsoft Sentinel Responder and Log Analytics Reader on each Sentinel workspace (needs Owner or User Access Administrator there).')
param grantSentinelRoles string = 'true'

param retentionDays string = '90'
param retentionSchedule string = '0 30 3 * * *'
@description('Seconds a worker holds a case without renewing; a crashed worker\'s case is taken over after at most this long.')
param caseLeaseSeconds string = '15'

// ---------------------------------------------------------------------------------------------------------------
// Audit events (Logs Ingestion API)
// ---------------------------------------------------------------------------------------------------------------

@description('ARM id of the Log Analytics workspace for the audit table (e.g. the Sentinel workspace); empty = the app\'s own workspace.')
param auditWorkspaceId string = ''
@description('Region of auditWorkspaceId: the data collection endpoint and rule must be in the workspace\'s region.')
param auditWorkspaceLocation string = ''
param auditRetentionDays string = '365'

// ---------------------------------------------------------------------------------------------------------------
// Names, flags and built-in role ids
// ---------------------------------------------------------------------------------------------------------------

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var appName = empty(functionAppName) ? 'func-${environmentName}-${token}' : functionAppName
var storageAccountName = 'star${token}'
var keyVaultName = 'kv-ar-${take(token, 13)}'
var deploymentContainerName = 'app-package-${take(token, 13)}'
var tags = {
  'azd-env-name': environmentName
  workload: 'agent-responders'
}

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

var approvalsOn = approvalsEnabled == 'true'

// Approvals decide with the signed-in approver's identity. Without App Service Authentication in front of the app
// anyone can send a principal header, so a deployment that turns approvals on without an app registration stops
// here, before any resource is created (ARM evaluates fail() while validating the template).
var signInClientId = (approvalsOn && empty(authClientId)) ? fail('Approvals need sign-in: set AUTH_CLIENT_ID (azd env set AUTH_CLIENT_ID <app registration client id>, see README "Deploy"), or set APPROVALS_ENABLED=false.') : authClientId
var configureSignIn = !empty(signInClientId)

// 'sub/rg/ws' entries of SENTINEL_WORKSPACES, split on the separators shared/config.ts accepts.
var sentinelWorkspaceList = filter(map(split(sentinelWorkspaces, [',', ';', ' ', '\n']), w => trim(w)), w => !empty(w))
var sentinelWorkspaceIds = map(sentinelWorkspaceList, w => '/subscriptions/${split(w, '/')[0]}/resourceGroups/${split(w, '/')[1]}/providers/Microsoft.OperationalInsights/workspaces/${split(w, '/')[2]}')

// ---------------------------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${environmentName}-${token}'
  location: location
  tags: tags
}

// ---------------------------------------------------------------------------------------------------------------
// Storage: host storage, the app's queues/tables, and the Flex deployment package. No shared keys.
// ---------------------------------------------------------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource containmentQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: 'containment'
}

// Data-plane roles for the identity-based AzureWebJobsStorage connection (host: blobs for leases/timers/deployment,
// queues for triggers and poison messages, tables for the app's case records).
resource storageBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

resource storageQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
  }
}

resource storageTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Monitoring: Entra-only ingestion (no instrumentation-key writes)
// ---------------------------------------------------------------------------------------------------------------

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${environmentName}-${token}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${environmentName}-${token}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

resource appInsightsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Audit events: custom table + data collection endpoint + rule (Logs Ingestion API), and the Sentinel workbook
// ---------------------------------------------------------------------------------------------------------------

var auditTableName = 'AgentResponderAudit_CL'
var auditStreamName = 'Custom-AgentResponderAudit'
var auditColumns = [
  { name: 'TimeGenerated', type: 'datetime' }
  { name: 'CaseId', type: 'string' }
  { name: 'Action', type: 'string' }
  { name: 'Scope', type: 'string' }
  { name: 'Actor', type: 'string' }
  { name: 'TargetId', type: 'string' }
  { name: 'Result', type: 'string' }
  { name: 'RequestId', type: 'string' }
  { name: 'Detail', type: 'string' }
]
var useOwnAuditWorkspace = empty(auditWorkspaceId)
var auditWorkspaceResourceId = useOwnAuditWorkspace ? logAnalytics.id : auditWorkspaceId
var auditLocation = useOwnAuditWorkspace || empty(auditWorkspaceLocation) ? location : auditWorkspaceLocation

resource auditTable 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = if (useOwnAuditWorkspace) {
  parent: logAnalytics
  name: auditTableName
  properties: {
    plan: 'Analytics'
    retentionInDays: int(auditRetentionDays)
    schema: { name: auditTableName, columns: auditColumns }
  }
}

module externalAuditTable 'modules/audit-table.bicep' = if (!useOwnAuditWorkspace) {
  name: 'audit-table-${token}'
  // auditWorkspaceResourceId, not auditWorkspaceId: ARM may evaluate the scope even when the condition is false.
  scope: resourceGroup(split(auditWorkspaceResourceId, '/')[2], split(auditWorkspaceResourceId, '/')[4])
  params: {
    workspaceName: last(split(auditWorkspaceResourceId, '/'))
    tableName: auditTableName
    columns: auditColumns
    retentionInDays: int(auditRetentionDays)
  }
}

resource auditEndpoint 'Microsoft.Insights/dataCollectionEndpoints@2023-03-11' = {
  name: 'dce-${environmentName}-${token}'
  location: auditLocation
  tags: tags
  properties: {
    networkAcls: { publicNetworkAccess: 'Enabled' }
  }
}

resource auditRule 'Microsoft.Insights/dataCollectionRules@2023-03-11' = {
  name: 'dcr-${environmentName}-${token}'
  location: auditLocation
  tags: tags
  properties: {
    dataCollectionEndpointId: auditEndpoint.id
    streamDeclarations: {
      '${auditStreamName}': { columns: auditColumns }
    }
    destinations: {
      logAnalytics: [
        { name: 'audit', workspaceResourceId: auditWorkspaceResourceId }
      ]
    }
    dataFlows: [
      {
        streams: [auditStreamName]
        destinations: ['audit']
        transformKql: 'source'
        outputStream: 'Custom-${auditTableName}'
      }
    ]
  }
  dependsOn: [
    auditTable
    externalAuditTable
  ]
}

// The Logs Ingestion API authorises uploads with Monitoring Metrics Publisher on the rule itself.
resource auditRulePublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(auditRule.id, identity.id, roles.monitoringMetricsPublisher)
  scope: auditRule
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

// Shown under Microsoft Sentinel > Workbooks of the first Sentinel workspace (or the audit workspace without one);
// its queries read the audit table wherever it lives.
resource auditWorkbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, environmentName, 'agent-responders-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Agent responders: contained agents, time to contain, approvals'
    category: 'sentinel'
    sourceId: empty(sentinelWorkspaceIds) ? auditWorkspaceResourceId : sentinelWorkspaceIds[0]
    serializedData: replace(loadTextContent('workbooks/agent-responders.workbook.json'), '__AUDIT_WORKSPACE_ID__', auditWorkspaceResourceId)
    version: 'Notebook/1.0'
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sentinel workspaces: incident re-read and comments (Microsoft Sentinel Responder), alert re-read through the Log
// Analytics query API (Log Analytics Reader)
// ---------------------------------------------------------------------------------------------------------------

module sentinelRoles 'modules/sentinel-workspace-roles.bicep' = [
  for (ws, i) in sentinelWorkspaceList: if (grantSentinelRoles == 'true') {
    name: 'sentinel-roles-${token}-${i}'
    scope: resourceGroup(split(ws, '/')[0], split(ws, '/')[1])
    params: {
      workspaceName: split(ws, '/')[2]
      principalId: identity.properties.principalId
    }
  }
]

// ---------------------------------------------------------------------------------------------------------------
// Key Vault (RBAC mode). A secret parameter is written only when given, so an empty one leaves the vault's value
// (set with az keyvault secret set, or on an earlier deployment) in place; app settings reference a secret whenever
// its feature is on, and an unresolved reference stops the app naming the setting.
// ---------------------------------------------------------------------------------------------------------------

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    createMode: keyVaultCreateMode
  }
}

resource secretServiceNowPassword 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(servicenowPassword)) {
  parent: keyVault
  name: 'SERVICENOW-PASSWORD'
  properties: { value: servicenowPassword, contentType: 'text/plain' }
}

resource secretJiraApiToken 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(jiraApiToken)) {
  parent: keyVault
  name: 'JIRA-API-TOKEN'
  properties: { value: jiraApiToken, contentType: 'text/plain' }
}

resource secretTicketWebhookSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(ticketWebhookSecret)) {
  parent: keyVault
  name: 'TICKET-WEBHOOK-SECRET'
  properties: { value: ticketWebhookSecret, contentType: 'text/plain' }
}

resource secretTeamsWebhookUrl 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(teamsWebhookUrl)) {
  parent: keyVault
  name: 'TEAMS-WEBHOOK-URL'
  properties: { value: teamsWebhookUrl, contentType: 'text/plain' }
}

resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identity.id, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

// Versionless secret URIs, so a rotated secret is picked up without redeploying.
var secretUriBase = '${keyVault.properties.vaultUri}secrets/'
var useServiceNowPassword = ticketProvider == 'servicenow'
var useJiraApiToken = ticketProvider == 'jira'
var useTicketWebhookSecret = ticketProvider == 'webhook'
var useTeamsWebhookUrl = teamsNotifications == 'true'
var useApprovalSigningKey = approvalsOn

// ---------------------------------------------------------------------------------------------------------------
// Function app on Flex Consumption
// ---------------------------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${environmentName}-${token}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity (the site has no system identity).
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
  dependsOn: [
    deploymentContainer
    storageBlobOwner
  ]
}

// No publishing with basic (user/password) credentials; azd and `az functionapp deployment` use Entra tokens.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: { allow: false }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: { allow: false }
}

var appHost = functionApp.properties.defaultHostName
var effectivePublicBaseUrl = !empty(publicBaseUrl) ? publicBaseUrl : (approvalsOn ? 'https://${appHost}' : '')
var effectiveAllowedCallers = join(filter([intakeAllowedCallers, playbookPrincipalIds], c => !empty(c)), ',')

// Every setting of configSchema in shared/config.ts appears below under its own name (checked by
// test/unit/infra/infra.test.ts). Exception: `AzureWebJobsStorage` (a connection string) is replaced by the
// identity-based `AzureWebJobsStorage__*` form. Secrets are Key Vault references or empty, never values.
// Flex Consumption takes the runtime from functionAppConfig: FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION
// and WEBSITE_RUN_FROM_PACKAGE must not be set. App Service Authentication sets WEBSITE_AUTH_* itself.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.properties.clientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
    GRAPH_ENDPOINT: graphEndpoint
    ARM_ENDPOINT: armEndpoint
    LOG_ANALYTICS_ENDPOINT: logAnalyticsEndpoint
    AZURE_CLIENT_ID: identity.properties.clientId
    RESPONDER_MODE: responderMode
    EMERGENCY_STOP: emergencyStop
    RESPONDER_OBJECT_ID: identity.properties.principalId
    PROTECTED_IDENTITIES: protectedIdentities
    REQUIRE_APPROVAL_IDENTITIES: requireApprovalIdentities
    BLAST_RADIUS_PER_HOUR: blastRadiusPerHour
    CONTAIN_HUMAN_USERS: containHumanUsers
    MIN_INCIDENT_SEVERITY: minIncidentSeverity
    TICKET_PROVIDER: ticketProvider
    SERVICENOW_INSTANCE_URL: servicenowInstanceUrl
    SERVICENOW_USERNAME: servicenowUsername
    SERVICENOW_PASSWORD: useServiceNowPassword ? '@Microsoft.KeyVault(SecretUri=${secretUriBase}SERVICENOW-PASSWORD/)' : ''
    JIRA_BASE_URL: jiraBaseUrl
    JIRA_EMAIL: jiraEmail
    JIRA_API_TOKEN: useJiraApiToken ? '@Microsoft.KeyVault(SecretUri=${secretUriBase}JIRA-API-TOKEN/)' : ''
    JIRA_PROJECT_KEY: jiraProjectKey
    JIRA_ISSUE_TYPE: jiraIssueType
    TICKET_WEBHOOK_URL: ticketWebhookUrl
    TICKET_WEBHOOK_SECRET: useTicketWebhookSecret ? '@Microsoft.KeyVault(SecretUri=${secretUriBase}TICKET-WEBHOOK-SECRET/)' : ''
    TEAMS_WEBHOOK_URL: useTeamsWebhookUrl ? '@Microsoft.KeyVault(SecretUri=${secretUriBase}TEAMS-WEBHOOK-URL/)' : ''
    PUBLIC_BASE_URL: effectivePublicBaseUrl
    APPROVAL_SIGNING_KEY: useApprovalSigningKey ? '@Microsoft.KeyVault(SecretUri=${secretUriBase}APPROVAL-SIGNING-KEY/)' : ''
    APPROVERS: approvers
    CASE_VIEWERS: caseViewers
    APPROVAL_TTL_HOURS: approvalTtlHours
    APPROVAL_QUORUM: approvalQuorum
    BLUEPRINT_RELEASE_QUORUM: blueprintReleaseQuorum
    APPROVAL_MAIL_SENDER: approvalMailSender
    APPROVAL_EXPIRY_SCHEDULE: approvalExpirySchedule
    LIFECYCLE_SWEEP_SCHEDULE: lifecycleSweepSchedule
    LIFECYCLE_WARN_DAYS: lifecycleWarnDays
    LIFECYCLE_GRACE_DAYS: lifecycleGraceDays
    LIFECYCLE_DELETE_ENABLED: lifecycleDeleteEnabled
    LIFECYCLE_AGENT_TAG: lifecycleAgentTag
    LIFECYCLE_EXPIRY_TAG_PREFIX: lifecycleExpiryTagPrefix
    LIFECYCLE_EXPIRY_ATTRIBUTE: lifecycleExpiryAttribute
    DRIFT_CHECK_SCHEDULE: driftCheckSchedule
    INTAKE_ALLOWED_CALLERS: effectiveAllowedCallers
    INTAKE_ALLOW_ANY_CALLER: intakeAllowAnyCaller
    SENTINEL_WORKSPACES: sentinelWorkspaces
    INTAKE_ALLOW_ANY_WORKSPACE: intakeAllowAnyWorkspace
    SENTINEL_VERIFY: sentinelVerify
    SENTINEL_VERIFY_DISABLED_WORKSPACES: sentinelVerifyDisabledWorkspaces
    RETENTION_DAYS: retentionDays
    RETENTION_SCHEDULE: retentionSchedule
    CASE_LEASE_SECONDS: caseLeaseSeconds
    AUDIT_INGESTION_ENDPOINT: auditEndpoint.properties.logsIngestion.endpoint
    AUDIT_DCR_IMMUTABLE_ID: auditRule.properties.immutableId
    AUDIT_STREAM_NAME: auditStreamName
  }
  dependsOn: [
    // Roles first, so the host starts with working storage, telemetry, audit ingestion and Key Vault references.
    storageBlobOwner
    storageQueueContributor
    storageTableContributor
    appInsightsPublisher
    auditRulePublisher
    keyVaultSecretsUser
    secretServiceNowPassword
    secretJiraApiToken
    secretTicketWebhookSecret
    secretTeamsWebhookUrl
    containmentQueue
  ]
}

// ---------------------------------------------------------------------------------------------------------------
// App Service Authentication (Easy Auth) with Microsoft Entra, token store on
// ---------------------------------------------------------------------------------------------------------------
// unauthenticatedClientAction is AllowAnonymous ON PURPOSE: Easy Auth validates any token or session cookie that is
// presented, strips client-sent x-ms-client-principal* / x-ms-token-* headers, and passes the signed-in principal and
// (token store on) the Entra ID token (X-MS-TOKEN-AAD-ID-TOKEN) to the app, which validates that token itself and
// decides. Anonymous requests still reach the app because:
//   - POST /api/alerts is called by the Sentinel playbooks with the function key and a managed-identity token the app
//     checks against INTAKE_ALLOWED_CALLERS; GET /api/health is anonymous liveness. Both must pass.
//   - The approval and case pages answer a visitor without a verified principal with "sign in to view" and a link to
//     /.auth/login/aad?post_login_redirect_uri=<page>, so an approver signs in and lands back on the same page.
// requireAuthentication: true + RedirectToLoginPage would instead break the playbook and health routes.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = if (configureSignIn) {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: { requireHttps: true }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: signInClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: union(['api://${signInClientId}', signInClientId], authAllowedAudiences)
        }
      }
    }
    login: {
      // On, so the app receives X-MS-TOKEN-AAD-ID-TOKEN and can verify the approver's token itself.
      tokenStore: { enabled: true }
    }
  }
  dependsOn: [appSettings]
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs (azd writes each one to its environment under the same name; the hooks read them)
// ---------------------------------------------------------------------------------------------------------------

output functionAppName string = functionApp.name
output intakeUrl string = 'https://${appHost}/api/alerts'
output healthUrl string = 'https://${appHost}/api/health'
@description('Object id of the responder identity: pass it to infra/grant-graph-permissions.sh --principal-id.')
output principalId string = identity.properties.principalId
output identityClientId string = identity.properties.clientId
output keyVaultName string = keyVault.name
output keyVaultId string = keyVault.id
output storageAccountName string = storage.name
@description('Token audience for the playbooks\' HTTP action (IntakeAudience parameter).')
output intakeAudience string = configureSignIn ? 'api://${signInClientId}' : ''
output functionAppHost string = appHost
output auditWorkspaceResourceId string = auditWorkspaceResourceId
output workbookId string = auditWorkbook.id
// azd conventions
output AZURE_FUNCTION_NAME string = functionApp.name
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
