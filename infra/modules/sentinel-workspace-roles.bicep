// The responder identity's roles on one Microsoft Sentinel workspace, deployed at the workspace's resource group:
//   - Microsoft Sentinel Responder: re-read incidents and their entities at the source, write incident comments.
//   - Log Analytics Reader: re-read alerts at the source through the Log Analytics query API
//     (SecurityAlert by SystemAlertId, token audience https://api.loganalytics.io).

targetScope = 'resourceGroup'

@description('Name of the Log Analytics workspace Microsoft Sentinel runs on.')
param workspaceName string

@description('Object id of the responder identity.')
param principalId string

var sentinelResponder = '3e150937-b8fe-4cfb-8069-0eaf05ecd056'
var logAnalyticsReader = '73c42c96-874c-492b-b04d-ab87d138a893'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource responder 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, sentinelResponder)
  scope: workspace
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', sentinelResponder)
  }
}

resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, logAnalyticsReader)
  scope: workspace
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', logAnalyticsReader)
  }
}
