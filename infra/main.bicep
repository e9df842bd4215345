// Agent responders: Azure Functions (Flex Consumption) app that contains compromised AI-agent identities in
// Microsoft Entra when Microsoft Sentinel posts incidents to it.
//
// Deploys into one resource group (`az deployment group create -g <rg> -f infra/main.bicep`, or `azd up` with
// AZURE_RESOURCE_GROUP set):
//   - user-assigned managed identity: the responder's only credential (Graph, ARM, storage, Key Vault, App Insights).
//     User-assigned so Graph app roles can be granted (infra/grant-graph-permissions.sh) before the code runs.
//   - storage account with shared keys disabled, reached only through identity-based connections.
//   - Flex Consumption plan (FC1) + function app (Node), deployment package in a blob container.
//   - Log Analytics + Application Insights with Entra-only ingestion.
//   - Key Vault (RBAC mode) holding the four secrets; the app reads them only through Key Vault references.
//   - App Service Authentication (Easy Auth) with the Entra provider, for the approval pages.
//
// Graph application permissions and the Sentinel role are NOT granted here (they need directory rights that a
// resource-group deployment does not have): run infra/grant-graph-permissions.sh with the `principalId` output.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------------------------
// Deployment shape
// ---------------------------------------------------------------------------------------------------------------

@description('Azure region. Must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@minLength(1)
@maxLength(20)
@description('Short name used in resource names and the azd-env-name tag.')
param environmentName string = 'agent-responders'

@description('Function app name; generated from environmentName when empty.')
param functionAppName string = ''

@allowed(['20', '22'])
@description('Node.js major version for the Flex Consumption runtime.')
param nodeVersion string = '20'

@minValue(40)
@maxValue(1000)
@description('Flex Consumption scale-out limit.')
param maximumInstanceCount int = 40

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Object id of the person or pipeline deploying; gets Key Vault Secrets Officer to rotate secrets. Optional.')
param deployerPrincipalId string = ''

@description('Names of secrets already in the vault (set out of band, or on an earlier deployment) that the app settings must reference even though this deployment does not pass their value, e.g. ["APPROVAL-SIGNING-KEY"].')
param keyVaultSecretsPresent array = []

// ---------------------------------------------------------------------------------------------------------------
// App Service Authentication (Easy Auth) — the app registration the deployer creates (see infra/README.md)
// ---------------------------------------------------------------------------------------------------------------

@description('Application (client) id of the Entra app registration for the approval pages and the playbook token audience. Easy Auth is configured only when set.')
param authClientId string = ''

@description('Extra accepted token audiences (e.g. a custom Application ID URI). api://<authClientId> and <authClientId> are always accepted.')
param authAllowedAudiences array = []

// ---------------------------------------------------------------------------------------------------------------
// App settings: one parameter per optional setting of shared/config.ts, with the same default
// ---------------------------------------------------------------------------------------------------------------

param graphEndpoint string = 'https://graph.microsoft.com'
param armEndpoint string = 'https://management.azure.com'

@allowed(['enforce', 'report-only'])
@description('report-only plans and records every step and changes nothing. Switch to enforce after a dry run.')
param responderMode string = 'report-only'

@description('Object ids / appIds never acted on (comma-separated).')
param protectedIdentities string = ''
@description('Object ids / appIds whose containment always waits for approval (comma-separated).')
param requireApprovalIdentities string = ''
param blastRadiusPerHour int = 25

@allowed(['servicenow', 'jira', 'webhook', 'none'])
param ticketProvider string = 'none'
param servicenowInstanceUrl string = ''
param servicenowUsername string = ''
@secure()
@description('Stored in Key Vault as SERVICENOW-PASSWORD when given.')
param servicenowPassword string = ''
param jiraBaseUrl string = ''
param jiraEmail string = ''
@secure()
@description('Stored in Key Vault as JIRA-API-TOKEN when given.')
param jiraApiToken string = ''
param jiraProjectKey string = ''
param jiraIssueType string = 'Task'
param ticketWebhookUrl string = ''
@secure()
@description('Stored in Key Vault as TICKET-WEBHOOK-SECRET when given (≥ 16 characters).')
param ticketWebhookSecret string = ''

@description('Base URL of approval links; defaults to https://<app host> when an approval signing key is configured.')
param publicBaseUrl string = ''
@secure()
@description('Stored in Key Vault as APPROVAL-SIGNING-KEY when given (≥ 32 bytes; e.g. openssl rand -base64 48).')
param approvalSigningKey string = ''
@description('Object ids of users or groups allowed to approve (comma-separated).')
param approvers string = ''
@description('Object ids of users or groups who may read the case pages besides the approvers (comma-separated).')
param caseViewers string = ''
@secure()
@description('Stored in Key Vault as TEAMS-WEBHOOK-URL when given: the Teams Workflows webhook for approval cards (its sig is a secret).')
param teamsWebhookUrl string = ''
param approvalTtlHours int = 24
param approvalQuorum int = 1
param blueprintReleaseQuorum int = 2
@description('Mailbox (UPN) that sends approval mail; needs the `mail` feature of grant-graph-permissions.sh.')
param approvalMailSender string = ''
param approvalExpirySchedule string = '0 */5 * * * *'

param lifecycleSweepSchedule string = '0 0 * * * *'
param lifecycleWarnDays int = 14
param lifecycleGraceDays int = 30
@description('Delete agents after the grace period; needs --with-delete in grant-graph-permissions.sh.')
param lifecycleDeleteEnabled bool = false
param lifecycleAgentTag string = 'agent'
param lifecycleExpiryTagPrefix string = 'agent-expires:'
@description('AttributeSet.AttributeName of a custom security attribute holding the end date; needs --with-expiry-attribute.')
param lifecycleExpiryAttribute string = ''
param driftCheckSchedule string = '0 */15 * * * *'

@description('Object ids of callers allowed to post alerts, e.g. the playbooks\' managed identities (comma-separated).')
param intakeAllowedCallers string = ''
@description('Sentinel workspaces as subscriptionId/resourceGroup/workspaceName (comma-separated).')
param sentinelWorkspaces string = ''
param sentinelVerify bool = true
param sentinelVerifyDisabledWorkspaces string = ''
param directRequestsRequireApproval bool = true

// ---------------------------------------------------------------------------------------------------------------
// Names and built-in role ids
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
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

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

resource teamsCardsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: 'teams-cards'
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
// Key Vault (RBAC mode). Secrets are created only when a value is passed; an empty parameter leaves any existing
// secret untouched (list it in keyVaultSecretsPresent so the app setting keeps referencing it).
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

resource secretApprovalSigningKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(approvalSigningKey)) {
  parent: keyVault
  name: 'APPROVAL-SIGNING-KEY'
  properties: { value: approvalSigningKey, contentType: 'text/plain' }
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

resource keyVaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(keyVault.id, deployerPrincipalId, roles.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    principalId: deployerPrincipalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
  }
}

// Versionless secret URIs, so a rotated secret is picked up without redeploying.
var secretUriBase = '${keyVault.properties.vaultUri}secrets/'
var hasServiceNowPassword = !empty(servicenowPassword) || contains(keyVaultSecretsPresent, 'SERVICENOW-PASSWORD')
var hasJiraApiToken = !empty(jiraApiToken) || contains(keyVaultSecretsPresent, 'JIRA-API-TOKEN')
var hasTicketWebhookSecret = !empty(ticketWebhookSecret) || contains(keyVaultSecretsPresent, 'TICKET-WEBHOOK-SECRET')
var hasApprovalSigningKey = !empty(approvalSigningKey) || contains(keyVaultSecretsPresent, 'APPROVAL-SIGNING-KEY')
var hasTeamsWebhookUrl = !empty(teamsWebhookUrl) || contains(keyVaultSecretsPresent, 'TEAMS-WEBHOOK-URL')

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
var effectivePublicBaseUrl = !empty(publicBaseUrl) ? publicBaseUrl : (hasApprovalSigningKey ? 'https://${appHost}' : '')

// Every setting of configSchema in shared/config.ts appears below under its own name (checked by
// test/unit/infra/infra.test.ts). Exception: `AzureWebJobsStorage` (a connection string) is replaced by the
// identity-based `AzureWebJobsStorage__*` form. Secrets are Key Vault references or empty, never values.
// Flex Consumption takes the runtime from functionAppConfig: FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION
// and WEBSITE_RUN_FROM_PACKAGE must not be set.
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
    AZURE_CLIENT_ID: identity.properties.clientId
    RESPONDER_MODE: responderMode
    RESPONDER_OBJECT_ID: identity.properties.principalId
    PROTECTED_IDENTITIES: protectedIdentities
    REQUIRE_APPROVAL_IDENTITIES: requireApprovalIdentities
    BLAST_RADIUS_PER_HOUR: string(blastRadiusPerHour)
    TICKET_PROVIDER: ticketProvider
    SERVICENOW_INSTANCE_URL: servicenowInstanceUrl
    SERVICENOW_USERNAME: servicenowUsername
    SERVICENOW_PASSWORD: hasServiceNowPassword ? '@Microsoft.KeyVault(SecretUri=${secretUriBase}SERVICENOW-PASSWORD/)' : ''
    JIRA_BASE_URL: jiraBaseUrl
    JIRA_EMAIL: jiraEmail
    JIRA_API_TOKEN: hasJiraApiToken ? '@Microsoft.KeyVault(SecretUri=${secretUriBase}JIRA-API-TOKEN/)' : ''
    JIRA_PROJECT_KEY: jiraProjectKey
    JIRA_ISSUE_TYPE: jiraIssueType
    TICKET_WEBHOOK_URL: ticketWebhookUrl
    TICKET_WEBHOOK_SECRET: hasTicketWebhookSecret ? '@Microsoft.KeyVault(SecretUri=${secretUriBase}TICKET-WEBHOOK-SECRET/)' : ''
    PUBLIC_BASE_URL: effectivePublicBaseUrl
    APPROVAL_SIGNING_KEY: hasApprovalSigningKey ? '@Microsoft.KeyVault(SecretUri=${secretUriBase}APPROVAL-SIGNING-KEY/)' : ''
    APPROVERS: approvers
    CASE_VIEWERS: caseViewers
    TEAMS_WEBHOOK_URL: hasTeamsWebhookUrl ? '@Microsoft.KeyVault(SecretUri=${secretUriBase}TEAMS-WEBHOOK-URL/)' : ''
    APPROVAL_TTL_HOURS: string(approvalTtlHours)
    APPROVAL_QUORUM: string(approvalQuorum)
    BLUEPRINT_RELEASE_QUORUM: string(blueprintReleaseQuorum)
    APPROVAL_MAIL_SENDER: approvalMailSender
    APPROVAL_EXPIRY_SCHEDULE: approvalExpirySchedule
    LIFECYCLE_SWEEP_SCHEDULE: lifecycleSweepSchedule
    LIFECYCLE_WARN_DAYS: string(lifecycleWarnDays)
    LIFECYCLE_GRACE_DAYS: string(lifecycleGraceDays)
    LIFECYCLE_DELETE_ENABLED: lifecycleDeleteEnabled ? 'true' : 'false'
    LIFECYCLE_AGENT_TAG: lifecycleAgentTag
    LIFECYCLE_EXPIRY_TAG_PREFIX: lifecycleExpiryTagPrefix
    LIFECYCLE_EXPIRY_ATTRIBUTE: lifecycleExpiryAttribute
    DRIFT_CHECK_SCHEDULE: driftCheckSchedule
    INTAKE_ALLOWED_CALLERS: intakeAllowedCallers
    SENTINEL_WORKSPACES: sentinelWorkspaces
    SENTINEL_VERIFY: sentinelVerify ? 'true' : 'false'
    SENTINEL_VERIFY_DISABLED_WORKSPACES: sentinelVerifyDisabledWorkspaces
    DIRECT_REQUESTS_REQUIRE_APPROVAL: directRequestsRequireApproval ? 'true' : 'false'
  }
  dependsOn: [
    // Roles first, so the host starts with working storage, telemetry and Key Vault references.
    storageBlobOwner
    storageQueueContributor
    storageTableContributor
    appInsightsPublisher
    keyVaultSecretsUser
    secretServiceNowPassword
    secretJiraApiToken
    secretTicketWebhookSecret
    secretApprovalSigningKey
    containmentQueue
  ]
}

// ---------------------------------------------------------------------------------------------------------------
// App Service Authentication (Easy Auth) with the Entra provider
// ---------------------------------------------------------------------------------------------------------------
// unauthenticatedClientAction is AllowAnonymous ON PURPOSE. Easy Auth validates any token or session cookie that
// is presented and passes the signed-in principal to the app in x-ms-client-principal, but does not turn away
// anonymous requests, because:
//   - POST /api/alerts is called by the Sentinel playbook with the function key (and a managed-identity token the
//     app checks against INTAKE_ALLOWED_CALLERS); GET /api/health is anonymous liveness. Both must pass.
//   - The approval pages (GET/POST /api/approvals/{id}) check x-ms-client-principal themselves: with no
//     signed-in principal the app answers 401 with a link to /.auth/login/aad?post_login_redirect_uri=<page>,
//     so an approver signs in and lands back on the same confirmation page.
// requireAuthentication: true + RedirectToLoginPage would instead break the playbook and health routes.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(authClientId)) {
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
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: union(['api://${authClientId}', authClientId], authAllowedAudiences)
        }
      }
    }
    login: {
      // Only the session cookie is needed; the token store would need a storage location this app does not have.
      tokenStore: { enabled: false }
    }
  }
  dependsOn: [appSettings]
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------------------------

output functionAppName string = functionApp.name
output intakeUrl string = 'https://${appHost}/api/alerts'
output healthUrl string = 'https://${appHost}/api/health'
@description('Object id of the responder identity: pass it to infra/grant-graph-permissions.sh --principal-id.')
output principalId string = identity.properties.principalId
output identityClientId string = identity.properties.clientId
output keyVaultName string = keyVault.name
output storageAccountName string = storage.name
@description('Token audience for the playbooks\' HTTP action (IntakeAudience parameter).')
output intakeAudience string = empty(authClientId) ? '' : 'api://${authClientId}'
// azd conventions
output AZURE_FUNCTION_NAME string = functionApp.name
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
