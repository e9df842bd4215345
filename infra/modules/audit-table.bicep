// The audit table in a Log Analytics workspace outside the deployment's resource group (e.g. the Sentinel
// workspace, so the SOC queries audit events beside its incidents).

targetScope = 'resourceGroup'

param workspaceName string
param tableName string
param columns array
param retentionInDays int

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource table 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = {
  parent: workspace
  name: tableName
  properties: {
    plan: 'Analytics'
    retentionInDays: retentionInDays
    schema: { name: tableName, columns: columns }
  }
}
