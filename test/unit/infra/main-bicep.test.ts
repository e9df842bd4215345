/**
 * main.bicep, checked structurally (see infra-text.ts for why there is no Bicep compiler here): every setting of the
 * app is deployed under its own name with the app's default, secrets stay in Key Vault, approvals cannot run without
 * App Service Authentication, and the audit pipeline and Sentinel roles are in place.
 */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../shared/config';
import { bicepParams, configPropertiesOf, configShape, defaultAsEnvText, infra, read, withoutComments } from './infra-text';

const bicep = read(infra, 'main.bicep');
const code = withoutComments(bicep);
const params = bicepParams(code);
const settings = configPropertiesOf(code, 'appsettings');
const auth = configPropertiesOf(code, 'authsettingsV2');
const shape = configShape(configSchema);

/** Settings of configSchema a deployment never sets, and why. */
const NOT_DEPLOYED: Record<string, string> = {
  AzureWebJobsStorage: 'a connection string; the deployment uses the identity-based AzureWebJobsStorage__accountName form',
  WEBSITE_AUTH_ENABLED: 'set by App Service itself when App Service Authentication is on',
  WEBSITE_AUTH_CLIENT_ID: 'set by App Service itself when App Service Authentication is on',
  WEBSITE_AUTH_OPENID_ISSUER: 'set by App Service itself when App Service Authentication is on',
};

/** Settings derived from deployed resources rather than a parameter of the same meaning. */
const DERIVED: Record<string, RegExp> = {
  AzureWebJobsStorage__accountName: /^storage\.name$/,
  AZURE_CLIENT_ID: /^identity\.properties\.clientId$/,
  RESPONDER_OBJECT_ID: /^identity\.properties\.principalId$/,
  PUBLIC_BASE_URL: /^effectivePublicBaseUrl$/,
  INTAKE_ALLOWED_CALLERS: /^effectiveAllowedCallers$/,
  AUDIT_INGESTION_ENDPOINT: /^auditEndpoint\.properties\.logsIngestion\.endpoint$/,
  AUDIT_DCR_IMMUTABLE_ID: /^auditRule\.properties\.immutableId$/,
  AUDIT_STREAM_NAME: /^auditStreamName$/,
  APPLICATIONINSIGHTS_CONNECTION_STRING: /^appInsights\.properties\.ConnectionString$/,
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: /^'ClientId=\$\{identity\.properties\.clientId\};Authorization=AAD'$/,
};

/** Secret settings: the Key Vault secret each references, the flag that turns the reference on, and its parameter. */
const SECRETS: Record<string, { secret: string; flag: string; when: string; param?: string }> = {
  SERVICENOW_PASSWORD: { secret: 'SERVICENOW-PASSWORD', flag: 'useServiceNowPassword', when: "ticketProvider == 'servicenow'", param: 'servicenowPassword' },
  JIRA_API_TOKEN: { secret: 'JIRA-API-TOKEN', flag: 'useJiraApiToken', when: "ticketProvider == 'jira'", param: 'jiraApiToken' },
  TICKET_WEBHOOK_SECRET: { secret: 'TICKET-WEBHOOK-SECRET', flag: 'useTicketWebhookSecret', when: "ticketProvider == 'webhook'", param: 'ticketWebhookSecret' },
  TEAMS_WEBHOOK_URL: { secret: 'TEAMS-WEBHOOK-URL', flag: 'useTeamsWebhookUrl', when: "teamsNotifications == 'true'", param: 'teamsWebhookUrl' },
  // Created once by infra/hooks/ensure-signing-key.sh, never by a deployment.
  APPROVAL_SIGNING_KEY: { secret: 'APPROVAL-SIGNING-KEY', flag: 'useApprovalSigningKey', when: 'approvalsOn' },
};

/** Settings other engineers are adding to shared/config.ts; deployed already, with the defaults they will have. */
const UPCOMING: Record<string, string> = {
  EMERGENCY_STOP: 'false',
  CONTAIN_HUMAN_USERS: 'false',
  MIN_INCIDENT_SEVERITY: 'Low',
  INTAKE_ALLOW_ANY_CALLER: 'false',
  INTAKE_ALLOW_ANY_WORKSPACE: 'false',
  RETENTION_DAYS: '90',
  RETENTION_SCHEDULE: '0 30 3 * * *',
  CASE_VIEWERS: '',
  LOG_ANALYTICS_ENDPOINT: 'https://api.loganalytics.io',
};

describe('infra/main.bicep', () => {
  it.each([
    'Microsoft.ManagedIdentity/userAssignedIdentities',
    'Microsoft.Storage/storageAccounts',
    'Microsoft.Storage/storageAccounts/blobServices/containers',
    'Microsoft.Storage/storageAccounts/queueServices/queues',
    'Microsoft.Web/serverfarms',
    'Microsoft.Web/sites',
    'Microsoft.Web/sites/config',
    'Microsoft.OperationalInsights/workspaces',
    'Microsoft.OperationalInsights/workspaces/tables',
    'Microsoft.Insights/components',
    'Microsoft.Insights/dataCollectionEndpoints',
    'Microsoft.Insights/dataCollectionRules',
    'Microsoft.Insights/workbooks',
    'Microsoft.KeyVault/vaults',
    'Microsoft.KeyVault/vaults/secrets',
    'Microsoft.Authorization/roleAssignments',
  ])('declares a %s resource', (type) => {
    expect(code).toMatch(new RegExp(`^resource \\w+ '${type.replace(/[./]/g, '\\$&')}@\\d{4}-\\d{2}-\\d{2}(-preview)?'`, 'm'));
  });

  it('runs on Flex Consumption (FC1) with Node 22 and a user-assigned identity', () => {
    expect(code).toMatch(/sku: \{ name: 'FC1', tier: 'FlexConsumption' \}/);
    expect(code).toMatch(/runtime: \{\s*name: 'node'\s*version: nodeVersion\s*\}/);
    expect(params.get('nodeVersion')?.defaultText).toBe("'22'");
    expect(code).toMatch(/identity: \{\s*type: 'UserAssigned'/);
    expect(code).toMatch(/type: 'UserAssignedIdentity'\s*userAssignedIdentityResourceId: identity\.id/);
    expect(code).toMatch(/keyVaultReferenceIdentity: identity\.id/);
  });

  it('reaches storage only through the identity, with blob, queue and table data roles', () => {
    expect(code).toMatch(/allowSharedKeyAccess: false/);
    expect(settings.get('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
    expect(settings.get('AzureWebJobsStorage__clientId')).toBe('identity.properties.clientId');
    const roleIds: Record<string, string> = {
      storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
      storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
      storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
      keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
      monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
    };
    for (const [name, id] of Object.entries(roleIds)) {
      expect(code, name).toContain(`${name}: '${id}'`);
      expect(code, `a role assignment uses ${name}`).toMatch(
        new RegExp(`roleDefinitionId: subscriptionResourceId\\('Microsoft\\.Authorization/roleDefinitions', roles\\.${name}\\)`),
      );
    }
  });

  it('sends telemetry with the identity (Entra-only ingestion)', () => {
    expect(code).toMatch(/DisableLocalAuth: true/);
    expect(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe("'ClientId=${identity.properties.clientId};Authorization=AAD'");
  });

  it('sets every setting of configSchema, under the same name, and the settings being added', () => {
    const missing = Object.keys(shape).filter((key) => !settings.has(key) && NOT_DEPLOYED[key] === undefined);
    expect(missing).toEqual([]);
    for (const key of Object.keys(NOT_DEPLOYED)) {
      expect(settings.has(key), `${key} is deliberately not deployed`).toBe(false);
    }
    for (const key of [...Object.keys(UPCOMING), 'AUDIT_INGESTION_ENDPOINT', 'AUDIT_DCR_IMMUTABLE_ID', 'AUDIT_STREAM_NAME', 'TEAMS_WEBHOOK_URL']) {
      expect(settings.has(key), key).toBe(true);
    }
  });

  it('gives each optional setting a parameter with the default config.ts has', () => {
    for (const [key, field] of Object.entries(shape)) {
      const expression = settings.get(key);
      if (expression === undefined || SECRETS[key] !== undefined) {
        continue;
      }
      const derived = DERIVED[key];
      if (derived !== undefined) {
        expect(expression, key).toMatch(derived);
        continue;
      }
      const param = params.get(expression);
      expect(param, `${key} = ${expression} is a parameter`).toBeDefined();
      if (param === undefined) {
        continue;
      }
      const envText = defaultAsEnvText(param);
      expect(envText, `${param.name} has a literal default`).toBeDefined();
      const deployed = field.safeParse(envText);
      const unset = field.safeParse(undefined);
      expect(deployed.success, `${key}: the template default is valid`).toBe(true);
      expect(deployed.data, `${key}: the template default means what config.ts's default means`).toEqual(unset.data);
    }
    for (const [key, fallback] of Object.entries(UPCOMING)) {
      const param = params.get(settings.get(key) ?? '');
      expect(param && defaultAsEnvText(param), key).toBe(fallback);
    }
  });

  it('holds no secret in an app setting: secrets are Key Vault references, on when their feature is on', () => {
    for (const [key, { secret, flag, when }] of Object.entries(SECRETS)) {
      expect(settings.get(key), key).toBe(`${flag} ? '@Microsoft.KeyVault(SecretUri=\${secretUriBase}${secret}/)' : ''`);
      expect(code).toContain(`var ${flag} = ${when}\n`);
    }
    const secure = [...params.values()].filter((p) => p.secure);
    for (const [key, expression] of settings) {
      if (/(PASSWORD|SECRET|API_TOKEN|SIGNING_KEY|WEBHOOK_URL)$/.test(key) && key !== 'TICKET_WEBHOOK_URL') {
        expect(Object.keys(SECRETS), `${key} looks secret and must be a Key Vault reference`).toContain(key);
      }
      for (const param of secure) {
        expect(expression, `${key} must not carry ${param.name}`).not.toMatch(new RegExp(`\\b${param.name}\\b`));
      }
    }
    expect(code).toMatch(/var secretUriBase = '\$\{keyVault\.properties\.vaultUri\}secrets\/'/);
  });

  it('writes a secret parameter to Key Vault only when given, and uses it for nothing else', () => {
    expect(code).toMatch(/enableRbacAuthorization: true/);
    const secure = [...params.values()].filter((p) => p.secure).map((p) => p.name);
    expect(secure.sort()).toEqual(Object.values(SECRETS).flatMap((s) => (s.param ? [s.param] : [])).sort());
    for (const { secret, param } of Object.values(SECRETS)) {
      if (param === undefined) {
        continue;
      }
      expect(code).toMatch(
        new RegExp(`^resource \\w+ 'Microsoft\\.KeyVault/vaults/secrets@[\\d-]+' = if \\(!empty\\(${param}\\)\\) \\{\\s*parent: keyVault\\s*name: '${secret}'`, 'm'),
      );
      const uses = code.split('\n').filter((line) => new RegExp(`\\b${param}\\b`).test(line) && !line.startsWith('param '));
      expect(uses.map((l) => l.replace(`empty(${param})`, 'empty(…)').trim()), param).toEqual([
        expect.stringMatching(/^resource /),
        `properties: { value: ${param}, contentType: 'text/plain' }`,
      ]);
    }
  });

  it('never writes the approval signing key: a redeploy cannot regenerate it', () => {
    expect(code).not.toMatch(/name: 'APPROVAL-SIGNING-KEY'/);
    expect(code).not.toMatch(/newGuid\(|utcNow\(/);
    expect([...params.keys()].filter((p) => /signing/i.test(p))).toEqual([]);
  });

  it('does not set app settings that Flex Consumption rejects, nor those App Service Authentication sets', () => {
    for (const key of ['FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION', 'WEBSITE_RUN_FROM_PACKAGE', 'WEBSITE_NODE_DEFAULT_VERSION']) {
      expect(settings.has(key), key).toBe(false);
    }
    expect([...settings.keys()].filter((k) => k.startsWith('WEBSITE_AUTH_'))).toEqual([]);
  });

  it('passes every parameter as text from azd (no int or bool app-setting parameters to mistype)', () => {
    for (const [key, expression] of settings) {
      const param = params.get(expression);
      if (param !== undefined) {
        expect(param.type, `${key} <- ${param.name}`).toBe('string');
      }
    }
  });
});

describe('infra/main.bicep: approvals cannot run without sign-in', () => {
  it('fails the deployment when approvals are on and no app registration is given', () => {
    expect(params.get('approvalsEnabled')?.defaultText).toBe("'true'");
    expect(code).toContain("var approvalsOn = approvalsEnabled == 'true'\n");
    expect(code).toMatch(/^var signInClientId = \(approvalsOn && empty\(authClientId\)\) \? fail\('Approvals need sign-in: [^']*AUTH_CLIENT_ID[^']*APPROVALS_ENABLED=false\.'\) : authClientId$/m);
    expect(code).toContain('var configureSignIn = !empty(signInClientId)\n');
  });

  it('configures App Service Authentication whenever approvals are on, from the checked client id', () => {
    expect(code).toMatch(/^resource authSettings 'Microsoft\.Web\/sites\/config@[\d-]+' = if \(configureSignIn\) \{/m);
    // Only the checked id is used: configureSignIn is true whenever approvalsOn (or the deployment failed).
    const uses = code.split('\n').filter((line) => /\bauthClientId\b/.test(line) && !line.startsWith('@description'));
    expect(uses.map((l) => l.trim().replace(/fail\('[^']*'\)/, 'fail(…)'))).toEqual([
      "param authClientId string = ''",
      'var signInClientId = (approvalsOn && empty(authClientId)) ? fail(…) : authClientId',
    ]);
    expect(auth.get('clientId')).toBe('signInClientId');
  });

  it('uses Microsoft Entra with the token store on, and lets unauthenticated requests reach the app', () => {
    const section = code.slice(code.indexOf("name: 'authsettingsV2'"));
    expect(section).toMatch(/platform: \{ enabled: true \}/);
    expect(section).toMatch(/requireAuthentication: false\s*unauthenticatedClientAction: 'AllowAnonymous'/);
    expect(section).toMatch(/azureActiveDirectory: \{\s*enabled: true/);
    expect(section).toMatch(/openIdIssuer: '\$\{environment\(\)\.authentication\.loginEndpoint\}\$\{tenant\(\)\.tenantId\}\/v2\.0'/);
    expect(section).toMatch(/tokenStore: \{ enabled: true \}/);
    expect(section).not.toMatch(/clientSecretSettingName/);
    expect(bicep).toMatch(/\/\.auth\/login\/aad/); // the comment explaining the choice
  });

  it('references the signing key and sets approval links only when approvals are on', () => {
    expect(code).toContain('var useApprovalSigningKey = approvalsOn\n');
    expect(code).toContain("var effectivePublicBaseUrl = !empty(publicBaseUrl) ? publicBaseUrl : (approvalsOn ? 'https://${appHost}' : '')");
  });
});

describe('infra/main.bicep: audit events and Sentinel', () => {
  it('creates the audit table with the documented columns and streams it through a rule into it', () => {
    expect(code).toContain("var auditTableName = 'AgentResponderAudit_CL'");
    const columns = [...code.matchAll(/\{ name: '(\w+)', type: '(\w+)' \}/g)].map((m) => `${m[1] ?? ''}:${m[2] ?? ''}`);
    expect(columns).toEqual([
      'TimeGenerated:datetime',
      'CaseId:string',
      'Action:string',
      'Scope:string',
      'Actor:string',
      'TargetId:string',
      'Result:string',
      'RequestId:string',
      'Detail:string',
    ]);
    expect(code).toMatch(/dataCollectionEndpointId: auditEndpoint\.id/);
    expect(code).toMatch(/streams: \[auditStreamName\]\s*destinations: \['audit'\]\s*transformKql: 'source'\s*outputStream: 'Custom-\$\{auditTableName\}'/);
    expect(code).toContain("var auditStreamName = 'Custom-AgentResponderAudit'");
  });

  it('lets the identity publish to the rule (Monitoring Metrics Publisher on the rule itself)', () => {
    expect(code).toMatch(
      /resource auditRulePublisher 'Microsoft\.Authorization\/roleAssignments@[\d-]+' = \{\s*name: guid\(auditRule\.id, identity\.id, roles\.monitoringMetricsPublisher\)\s*scope: auditRule\s*properties: \{\s*principalId: identity\.properties\.principalId/,
    );
    expect(code).toMatch(/dependsOn: \[[^\]]*auditRulePublisher/);
  });

  it('grants Microsoft Sentinel Responder and Log Analytics Reader on every Sentinel workspace', () => {
    const module = withoutComments(read(infra, 'modules', 'sentinel-workspace-roles.bicep'));
    expect(module).toContain("var sentinelResponder = '3e150937-b8fe-4cfb-8069-0eaf05ecd056'");
    expect(module).toContain("var logAnalyticsReader = '73c42c96-874c-492b-b04d-ab87d138a893'");
    expect(module.match(/scope: workspace/g)).toHaveLength(2);
    expect(code).toMatch(/module sentinelRoles 'modules\/sentinel-workspace-roles\.bicep' = \[\s*for \(ws, i\) in sentinelWorkspaceList:/);
    expect(code).toMatch(/scope: resourceGroup\(split\(ws, '\/'\)\[0\], split\(ws, '\/'\)\[1\]\)/);
    expect(code).toContain("var sentinelWorkspaceList = filter(map(split(sentinelWorkspaces, [',', ';', ' ', '\\n']), w => trim(w)), w => !empty(w))");
  });

  it('ships a Sentinel workbook over the audit table: contained agents, time to contain, approvals', () => {
    expect(code).toMatch(/serializedData: replace\(loadTextContent\('workbooks\/agent-responders\.workbook\.json'\), '__AUDIT_WORKSPACE_ID__', auditWorkspaceResourceId\)/);
    expect(code).toMatch(/category: 'sentinel'/);
    const workbook = JSON.parse(read(infra, 'workbooks', 'agent-responders.workbook.json')) as { items: { name: string; content: { query?: string; crossComponentResources?: string[] } }[] };
    const names = workbook.items.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['contained-agents', 'time-to-contain', 'approvals-pending', 'approvals-decided']));
    for (const item of workbook.items.filter((i) => i.content.query !== undefined)) {
      expect(item.content.query, item.name).toContain('AgentResponderAudit_CL');
      expect(item.content.crossComponentResources, item.name).toEqual(['__AUDIT_WORKSPACE_ID__']);
      for (const column of item.content.query?.match(/\b(Action|Result|Actor|TargetId|CaseId|RequestId|Detail|Scope)\b/g) ?? []) {
        expect(['Action', 'Result', 'Actor', 'TargetId', 'CaseId', 'RequestId', 'Detail', 'Scope']).toContain(column);
      }
    }
  });

  it.each(['intakeUrl', 'healthUrl', 'functionAppName', 'principalId', 'keyVaultId', 'functionAppHost', 'intakeAudience'])('outputs %s for the hooks', (name) => {
    expect(code).toMatch(new RegExp(`^output ${name} string = `, 'm'));
  });

  it('points the URL outputs at the intake and health routes', () => {
    expect(code).toMatch(/^output intakeUrl string = 'https:\/\/\$\{appHost\}\/api\/alerts'$/m);
    expect(code).toMatch(/^output healthUrl string = 'https:\/\/\$\{appHost\}\/api\/health'$/m);
    expect(code).toMatch(/^output principalId string = identity\.properties\.principalId$/m);
  });
});
