/**
 * Offline checks of the deployment assets under infra/: no Bicep or Azure CLI is available here, so the templates
 * are inspected as text (Bicep) and JSON (ARM playbooks, permission table), and the playbook's request body is fed
 * to the real intake parser.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseAlert } from '../../../shared/alerts/parse-alert';
import { configSchema } from '../../../shared/config';

const repo = join(__dirname, '..', '..', '..');
const infra = join(repo, 'infra');
const read = (...parts: string[]): string => readFileSync(join(...parts), 'utf8');
const readJson = (...parts: string[]): unknown => JSON.parse(read(...parts)) as unknown;

// ---------------------------------------------------------------------------------------------------------------
// Small helpers over unknown JSON
// ---------------------------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rec(value: unknown, what: string): Json {
  if (!isRecord(value)) {
    throw new Error(`${what} is not an object`);
  }
  return value;
}

function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    current = isRecord(current) ? current[key] : undefined;
  }
  return current;
}

function arr(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new Error(`${what} is not an array`);
  }
  return value as unknown[];
}

/** The object schema inside `configSchema`, whether zod keeps refinements on the object or wraps it. */
function configShape(schema: unknown): Record<string, z.ZodType> {
  let current: unknown = schema;
  for (let depth = 0; depth < 8; depth += 1) {
    if (current instanceof z.ZodObject) {
      return current.shape;
    }
    if (current instanceof z.ZodPipe) {
      current = current.in;
      continue;
    }
    // Older zod: ZodEffects keeps the inner schema in _def.schema.
    const inner = at(current, '_def', 'schema') ?? at(current, '_def', 'in') ?? at(current, '_def', 'innerType');
    if (inner === undefined) {
      break;
    }
    current = inner;
  }
  throw new Error('configSchema holds no object schema');
}

// ---------------------------------------------------------------------------------------------------------------
// Bicep text
// ---------------------------------------------------------------------------------------------------------------

const bicep = read(infra, 'main.bicep');
/** Bicep without `//` comments, so commented-out text cannot satisfy a check. */
const code = bicep
  .split('\n')
  .map((line) => line.replace(/(^|\s)\/\/.*$/, ''))
  .join('\n');

interface BicepParam {
  name: string;
  type: string;
  defaultText?: string;
  secure: boolean;
}

function bicepParams(text: string): Map<string, BicepParam> {
  const params = new Map<string, BicepParam>();
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const match = /^param\s+(\w+)\s+(\w+)(?:\s*=\s*(.+?))?\s*$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) {
      return;
    }
    let secure = false;
    for (let i = index - 1; i >= 0 && (lines[i] ?? '').startsWith('@'); i -= 1) {
      secure ||= (lines[i] ?? '').startsWith('@secure()');
    }
    params.set(match[1], { name: match[1], type: match[2], defaultText: match[3], secure });
  });
  return params;
}

/** The `properties` object of the `appsettings` config resource, as `NAME -> expression text`. */
function appSettingsOf(text: string): Map<string, string> {
  const start = text.indexOf("name: 'appsettings'");
  expect(start, 'an appsettings config resource').toBeGreaterThan(0);
  const open = text.indexOf('properties: {', start);
  let depth = 0;
  let end = -1;
  for (let i = open + 'properties: '.length; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '{') {
      depth += 1;
    } else if (ch === '}') {
      depth -= 1;
      if (depth === 0) {
        end = i;
        break;
      }
    }
  }
  expect(end).toBeGreaterThan(open);
  const body = text.slice(open + 'properties: {'.length, end);
  const settings = new Map<string, string>();
  for (const line of body.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*):\s*(.+?)\s*$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      expect(settings.has(match[1]), `app setting ${match[1]} set twice`).toBe(false);
      settings.set(match[1], match[2]);
    }
  }
  return settings;
}

/** A Bicep literal default as the string the app would read from its environment. */
function defaultAsEnvText(param: BicepParam): string | undefined {
  const text = param.defaultText;
  if (text === undefined) {
    return undefined;
  }
  const quoted = /^'((?:[^'\\]|\\.)*)'$/.exec(text);
  if (quoted?.[1] !== undefined) {
    return quoted[1].replace(/\\(.)/g, '$1');
  }
  if (/^-?\d+$/.test(text) || text === 'true' || text === 'false') {
    return text;
  }
  return undefined;
}

/** The parameter an app setting is a plain rendering of: `p`, `string(p)` or `p ? 'true' : 'false'`. */
function backingParam(expression: string): string | undefined {
  return (
    /^(\w+)$/.exec(expression)?.[1] ??
    /^string\((\w+)\)$/.exec(expression)?.[1] ??
    /^(\w+) \? 'true' : 'false'$/.exec(expression)?.[1]
  );
}

const params = bicepParams(code);
const settings = appSettingsOf(code);
const shape = configShape(configSchema);

/** Settings of configSchema a deployment never sets, and why. */
const NOT_DEPLOYED: Record<string, string> = {
  AzureWebJobsStorage: 'a connection string; the deployment uses the identity-based AzureWebJobsStorage__accountName form',
  WEBSITE_AUTH_ENABLED: 'set by App Service itself when its Authentication module is on, never as an app setting',
  WEBSITE_AUTH_CLIENT_ID: 'set by App Service itself when its Authentication module is on, never as an app setting',
  WEBSITE_AUTH_OPENID_ISSUER: 'set by App Service itself when its Authentication module is on, never as an app setting',
};

/** Settings derived from deployed resources rather than a parameter of the same meaning. */
const DERIVED: Record<string, RegExp> = {
  AzureWebJobsStorage__accountName: /^storage\.name$/,
  AZURE_CLIENT_ID: /^identity\.properties\.clientId$/,
  RESPONDER_OBJECT_ID: /^identity\.properties\.principalId$/,
  PUBLIC_BASE_URL: /^effectivePublicBaseUrl$/,
};

/** Secret settings: the Key Vault secret each references, and the Bicep flag saying whether it exists. */
const SECRETS: Record<string, { secret: string; flag: string }> = {
  SERVICENOW_PASSWORD: { secret: 'SERVICENOW-PASSWORD', flag: 'hasServiceNowPassword' },
  JIRA_API_TOKEN: { secret: 'JIRA-API-TOKEN', flag: 'hasJiraApiToken' },
  TICKET_WEBHOOK_SECRET: { secret: 'TICKET-WEBHOOK-SECRET', flag: 'hasTicketWebhookSecret' },
  APPROVAL_SIGNING_KEY: { secret: 'APPROVAL-SIGNING-KEY', flag: 'hasApprovalSigningKey' },
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
    'Microsoft.Insights/components',
    'Microsoft.KeyVault/vaults',
    'Microsoft.KeyVault/vaults/secrets',
    'Microsoft.Authorization/roleAssignments',
  ])('declares a %s resource', (type) => {
    expect(code).toMatch(new RegExp(`^resource \\w+ '${type.replace(/[./]/g, '\\$&')}@\\d{4}-\\d{2}-\\d{2}(-preview)?'`, 'm'));
  });

  it('runs on Flex Consumption (FC1) with the Node runtime and a user-assigned identity', () => {
    expect(code).toMatch(/sku: \{ name: 'FC1', tier: 'FlexConsumption' \}/);
    expect(code).toMatch(/functionAppConfig: \{/);
    expect(code).toMatch(/runtime: \{\s*name: 'node'\s*version: nodeVersion\s*\}/);
    expect(params.get('nodeVersion')?.defaultText).toBe("'20'");
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
    expect(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe(
      "'ClientId=${identity.properties.clientId};Authorization=AAD'",
    );
    expect(settings.has('APPLICATIONINSIGHTS_CONNECTION_STRING')).toBe(true);
  });

  it('keeps Key Vault in RBAC mode and creates each secret only when its value is given', () => {
    expect(code).toMatch(/enableRbacAuthorization: true/);
    const secureParams = [...params.values()].filter((p) => p.secure);
    expect(secureParams.map((p) => p.name).sort()).toEqual(
      ['approvalSigningKey', 'jiraApiToken', 'servicenowPassword', 'ticketWebhookSecret'].sort(),
    );
    for (const { secret: secretName } of Object.values(SECRETS)) {
      const decl = new RegExp(
        `^resource \\w+ 'Microsoft\\.KeyVault/vaults/secrets@[\\d-]+' = if \\(!empty\\((\\w+)\\)\\) \\{\\s*parent: keyVault\\s*name: '${secretName}'`,
        'm',
      ).exec(code);
      expect(decl?.[1], `secret ${secretName} is conditional on a @secure() parameter`).toBeDefined();
      expect(params.get(decl?.[1] ?? '')?.secure).toBe(true);
    }
  });

  it('uses each @secure() parameter only to create its Key Vault secret', () => {
    for (const param of [...params.values()].filter((p) => p.secure)) {
      const uses = code
        .split('\n')
        .filter((line) => new RegExp(`\\b${param.name}\\b`).test(line))
        .map((line) => line.replace(new RegExp(`empty\\(${param.name}\\)`, 'g'), 'empty(…)'))
        .filter((line) => new RegExp(`\\b${param.name}\\b`).test(line));
      // Left: the declaration and `value: <param>` inside the secret resource.
      expect(uses.filter((line) => !line.startsWith('param ')), param.name).toEqual([
        expect.stringMatching(new RegExp(`properties: \\{ value: ${param.name}, contentType: 'text/plain' \\}`)),
      ]);
    }
  });

  it('sets every setting of configSchema, under the same name', () => {
    const missing = Object.keys(shape).filter((key) => !settings.has(key) && NOT_DEPLOYED[key] === undefined);
    expect(missing).toEqual([]);
    for (const key of Object.keys(NOT_DEPLOYED)) {
      expect(settings.has(key), `${key} is deliberately not deployed`).toBe(false);
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
      const paramName = backingParam(expression);
      expect(paramName, `${key} = ${expression} is a parameter`).toBeDefined();
      const param = params.get(paramName ?? '');
      expect(param, `parameter ${paramName ?? ''} of ${key}`).toBeDefined();
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
  });

  it('holds no secret in an app setting: secrets are Key Vault references or empty', () => {
    for (const [key, { secret, flag }] of Object.entries(SECRETS)) {
      expect(settings.get(key), key).toBe(`${flag} ? '@Microsoft.KeyVault(SecretUri=\${secretUriBase}${secret}/)' : ''`);
      expect(code, `${flag} is true only when the secret is given or already in the vault`).toMatch(
        new RegExp(`^var ${flag} = !empty\\(\\w+\\) \\|\\| contains\\(keyVaultSecretsPresent, '${secret}'\\)$`, 'm'),
      );
    }
    for (const [key, expression] of settings) {
      if (/(PASSWORD|SECRET|API_TOKEN|SIGNING_KEY)$/.test(key)) {
        expect(Object.keys(SECRETS), `${key} looks secret and must be a Key Vault reference`).toContain(key);
      }
      for (const param of [...params.values()].filter((p) => p.secure)) {
        expect(expression, `${key} must not carry ${param.name}`).not.toMatch(new RegExp(`\\b${param.name}\\b`));
      }
    }
    expect(code).toMatch(/var secretUriBase = '\$\{keyVault\.properties\.vaultUri\}secrets\/'/);
  });

  it('does not set app settings that Flex Consumption rejects', () => {
    for (const key of ['FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION', 'WEBSITE_RUN_FROM_PACKAGE', 'WEBSITE_NODE_DEFAULT_VERSION']) {
      expect(settings.has(key), key).toBe(false);
    }
  });

  it('configures Easy Auth with Entra, letting anonymous requests through to the function-key routes', () => {
    expect(code).toMatch(/name: 'authsettingsV2'/);
    expect(code).toMatch(/unauthenticatedClientAction: 'AllowAnonymous'/);
    expect(code).toMatch(/requireAuthentication: false/);
    expect(code).toMatch(/azureActiveDirectory: \{\s*enabled: true/);
    expect(code).toMatch(/clientId: authClientId/);
    expect(bicep).toMatch(/\/\.auth\/login\/aad/); // the comment explaining the choice
  });

  it.each(['intakeUrl', 'healthUrl', 'functionAppName', 'principalId'])('outputs %s', (name) => {
    expect(code).toMatch(new RegExp(`^output ${name} string = `, 'm'));
  });

  it('points the URL outputs at the intake and health routes', () => {
    expect(code).toMatch(/^output intakeUrl string = 'https:\/\/\$\{appHost\}\/api\/alerts'$/m);
    expect(code).toMatch(/^output healthUrl string = 'https:\/\/\$\{appHost\}\/api\/health'$/m);
    expect(code).toMatch(/^output principalId string = identity\.properties\.principalId$/m);
  });
});

describe('azure.yaml', () => {
  it('deploys the repository as one TypeScript function app from infra/main.bicep', () => {
    const yaml = read(repo, 'azure.yaml');
    expect(yaml).toMatch(/^\s+host: function$/m);
    expect(yaml).toMatch(/^\s+language: ts$/m);
    expect(yaml).toMatch(/^\s+path: infra$/m);
    expect(code).toMatch(/'azd-service-name': 'api'/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Playbooks and automation rule (ARM JSON)
// ---------------------------------------------------------------------------------------------------------------

/** Every `parameters('x')` / `variables('x')` in an ARM template names a declared parameter / variable. */
function expectReferencesDeclared(template: Json): void {
  const text = JSON.stringify(template);
  const declared = (section: string): string[] => Object.keys(rec(template[section] ?? {}, section));
  for (const [kind, names] of [
    ['parameters', declared('parameters')],
    ['variables', declared('variables')],
  ] as const) {
    for (const match of text.matchAll(new RegExp(`\\[[^"]*?\\b${kind}\\('([^']+)'\\)`, 'g'))) {
      // Workflow-definition expressions (@parameters('…')) refer to the workflow's own parameters.
      if (match[0].includes('@')) {
        continue;
      }
      expect(names, `${kind}('${match[1] ?? ''}')`).toContain(match[1]);
    }
  }
}

/** Evaluates the only expressions the playbooks use for a body: `@triggerBody()` and `?['key']` steps. */
function evaluateBody(expression: unknown, triggerBody: unknown): unknown {
  expect(typeof expression).toBe('string');
  const match = /^@triggerBody\(\)((?:\?\['[^']+'\])*)$/.exec(String(expression));
  expect(match, `supported expression: ${String(expression)}`).not.toBeNull();
  let value = triggerBody;
  for (const step of (match?.[1] ?? '').matchAll(/\?\['([^']+)'\]/g)) {
    value = at(value, step[1] ?? '');
  }
  return value;
}

function fixture(shared: string, own: string): unknown {
  const sharedPath = join(repo, 'test', 'fixtures', 'sentinel', shared);
  return existsSync(sharedPath) ? readJson(sharedPath) : readJson(__dirname, 'fixtures', own);
}

const playbooks = [
  {
    file: 'incident-trigger.json',
    trigger: 'Microsoft_Sentinel_incident',
    path: '/incident-creation',
    source: 'incident',
    sample: () => fixture('incident-trigger.camel.json', 'incident-trigger.json'),
  },
  {
    file: 'alert-trigger.json',
    trigger: 'Microsoft_Sentinel_alert',
    path: '/subscribe',
    source: 'alert',
    sample: () => fixture('alert-trigger.entities-array.json', 'alert-trigger.json'),
  },
] as const;

describe.each(playbooks)('infra/playbooks/$file', ({ file, trigger, path, source, sample }) => {
  const template = rec(readJson(infra, 'playbooks', file), file);
  const resources = arr(template.resources, 'resources').map((r, i) => rec(r, `resources[${i}]`));
  const workflow = rec(
    resources.find((r) => r.type === 'Microsoft.Logic/workflows'),
    'the Microsoft.Logic/workflows resource',
  );
  const definition = rec(at(workflow, 'properties', 'definition'), 'definition');
  const actions = Object.values(rec(definition.actions, 'actions')).map((a, i) => rec(a, `actions[${i}]`));
  const http = rec(
    actions.find((a) => a.type === 'Http'),
    'the HTTP action',
  );

  it('declares its parameters and outputs, and references only declared ones', () => {
    expect(at(template, 'parameters', 'IntakeUrl', 'type')).toBe('string');
    expect(at(template, 'parameters', 'IntakeAudience', 'type')).toBe('string');
    expect(at(template, 'parameters', 'FunctionKey', 'type')).toBe('securestring');
    expect(at(template, 'parameters', 'FunctionKey', 'defaultValue')).toBeUndefined();
    expect(Object.keys(rec(template.outputs, 'outputs'))).toEqual(
      expect.arrayContaining(['playbookResourceId', 'playbookPrincipalId']),
    );
    expectReferencesDeclared(template);
  });

  it('connects to Microsoft Sentinel with the managed identity', () => {
    const connection = rec(
      resources.find((r) => r.type === 'Microsoft.Web/connections'),
      'the Microsoft.Web/connections resource',
    );
    expect(at(connection, 'properties', 'parameterValueType')).toBe('Alternative');
    expect(String(at(connection, 'properties', 'api', 'id'))).toMatch(/\/managedApis\/azuresentinel'\)\]$/);
    expect(at(workflow, 'identity', 'type')).toBe('SystemAssigned');
    const sentinel = at(workflow, 'properties', 'parameters', '$connections', 'value', 'azuresentinel');
    expect(at(sentinel, 'connectionProperties', 'authentication', 'type')).toBe('ManagedServiceIdentity');
  });

  it(`is triggered by Sentinel (${path})`, () => {
    const triggers = rec(definition.triggers, 'triggers');
    expect(Object.keys(triggers)).toEqual([trigger]);
    expect(at(triggers, trigger, 'type')).toBe('ApiConnectionWebhook');
    expect(at(triggers, trigger, 'inputs', 'path')).toBe(path);
    expect(at(triggers, trigger, 'inputs', 'host', 'connection', 'name')).toBe(
      "@parameters('$connections')['azuresentinel']['connectionId']",
    );
  });

  it('posts the trigger body to the intake with the managed identity, the function key and retries', () => {
    expect(at(http, 'inputs', 'method')).toBe('POST');
    expect(at(http, 'inputs', 'uri')).toBe("[parameters('IntakeUrl')]");
    expect(at(http, 'inputs', 'body')).toBe('@triggerBody()');
    expect(at(http, 'inputs', 'authentication')).toEqual({
      type: 'ManagedServiceIdentity',
      audience: "[parameters('IntakeAudience')]",
    });
    expect(at(http, 'inputs', 'headers', 'x-functions-key')).toBe("@parameters('FunctionKey')");
    expect(at(definition, 'parameters', 'FunctionKey', 'type')).toBe('SecureString');
    expect(at(workflow, 'properties', 'parameters', 'FunctionKey', 'value')).toBe("[parameters('FunctionKey')]");
    expect(at(http, 'inputs', 'retryPolicy', 'type')).toBe('exponential');
    expect(at(http, 'inputs', 'retryPolicy', 'count')).toBe(4);
    expect(at(http, 'operationOptions')).toBe('DisableAsyncPattern');
    expect(at(http, 'runtimeConfiguration', 'secureData', 'properties')).toEqual(['inputs']);
  });

  it('sends a body the intake parser accepts', () => {
    const body = evaluateBody(at(http, 'inputs', 'body'), sample());
    const parsed = parseAlert(body);
    expect(parsed.source).toBe(source);
    expect(parsed.targets.length).toBeGreaterThan(0);
  });
});

describe('infra/playbooks/automation-rule.json', () => {
  const template = rec(readJson(infra, 'playbooks', 'automation-rule.json'), 'automation-rule.json');
  const rules = arr(template.resources, 'resources')
    .map((r, i) => rec(r, `resources[${i}]`))
    .filter((r) => r.type === 'Microsoft.SecurityInsights/automationRules');

  it('declares its parameters and references only declared ones', () => {
    expect(Object.keys(rec(template.parameters, 'parameters'))).toEqual(
      expect.arrayContaining(['WorkspaceName', 'PlaybookResourceId']),
    );
    expectReferencesDeclared(template);
  });

  it('runs the incident playbook when an incident is created and when alerts are added to it', () => {
    expect(rules).toHaveLength(2);
    for (const rule of rules) {
      expect(rule.scope).toBe("[concat('Microsoft.OperationalInsights/workspaces/', parameters('WorkspaceName'))]");
      expect(at(rule, 'properties', 'triggeringLogic', 'triggersOn')).toBe('Incidents');
      expect(at(rule, 'properties', 'triggeringLogic', 'isEnabled')).toBe(true);
      expect(at(rule, 'properties', 'actions')).toEqual([
        {
          order: 1,
          actionType: 'RunPlaybook',
          actionConfiguration: {
            logicAppResourceId: "[parameters('PlaybookResourceId')]",
            tenantId: '[subscription().tenantId]',
          },
        },
      ]);
    }
    expect(rules.map((r) => at(r, 'properties', 'triggeringLogic', 'triggersWhen'))).toEqual(['Created', 'Updated']);
    expect(String(at(rules[1], 'properties', 'triggeringLogic', 'conditions'))).toContain("variables('alertsAddedCondition')");
    expect(at(template, 'variables', 'alertsAddedCondition')).toEqual([
      { conditionType: 'PropertyArrayChanged', conditionProperties: { arrayType: 'Alerts', changeType: 'Added' } },
    ]);
  });

  it('tells the deployer about the Sentinel Automation Contributor role', () => {
    const notes = JSON.stringify(template.metadata);
    expect(notes).toContain('Microsoft Sentinel Automation Contributor');
    expect(notes).toContain('f4c81013-99ee-4d62-a7ee-b3f1f648599a');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Graph permissions
// ---------------------------------------------------------------------------------------------------------------

/**
 * Least-privileged Graph application permissions, from shared reference/graph/api-facts.md, plus
 * Directory.Read.All (directoryObjects/getByIds) and GroupMember.Read.All (checkMemberGroups) from the Graph API
 * reference. A misspelt or unexpected permission fails here.
 */
const ALLOWED_PERMISSIONS = [
  'AgentIdentity.EnableDisable.All',
  'AgentIdentityBlueprintPrincipal.EnableDisable.All',
  'Application.ReadWrite.All',
  'Application.ReadWrite.OwnedBy',
  'IdentityRiskyAgent.ReadWrite.All',
  'IdentityRiskyServicePrincipal.ReadWrite.All',
  'IdentityRiskyUser.ReadWrite.All',
  'User.RevokeSessions.All',
  'Application.Read.All',
  'AgentIdentity.Read.All',
  'Directory.Read.All',
  'User.Read.All',
  'GroupMember.Read.All',
  'AgentIdentity.DeleteRestore.All',
  'CustomSecAttributeAssignment.Read.All',
  'Mail.Send',
];

const permissionRow = z
  .object({
    feature: z.enum(['containment', 'approvals', 'lifecycle', 'mail']),
    permission: z.string(),
    condition: z.enum(['always', 'with-delete', 'with-expiry-attribute', 'sp-disable=all', 'sp-disable=owned']),
    why: z.string().min(20),
    calls: z.array(z.string().regex(/^(GET|POST|PATCH|DELETE) \//)).min(1),
  })
  .strict();

const script = join(infra, 'grant-graph-permissions.sh');
const runScript = (...args: string[]): string => execFileSync('bash', [script, ...args], { encoding: 'utf8' });
const planned = (...args: string[]): string[] =>
  runScript('--plan-only', ...args)
    .trim()
    .split('\n')
    .map((line) => line.split('\t')[0] ?? '');

describe('infra/graph-permissions.json and grant-graph-permissions.sh', () => {
  const table = z.array(permissionRow).parse(readJson(infra, 'graph-permissions.json'));

  it('lists only known least-privileged permissions', () => {
    for (const row of table) {
      expect(ALLOWED_PERMISSIONS, `${row.feature}: ${row.permission}`).toContain(row.permission);
    }
  });

  it('is generated from the table in the script', () => {
    expect(JSON.parse(runScript('--emit-json')) as unknown).toEqual(table);
  });

  it('grants containment, approvals and lifecycle by default, without mail, delete or attribute reads', () => {
    const selected = planned();
    expect(selected).toEqual(
      expect.arrayContaining([
        'AgentIdentity.EnableDisable.All',
        'AgentIdentityBlueprintPrincipal.EnableDisable.All',
        'Application.ReadWrite.All',
        'IdentityRiskyAgent.ReadWrite.All',
        'IdentityRiskyServicePrincipal.ReadWrite.All',
        'IdentityRiskyUser.ReadWrite.All',
        'User.RevokeSessions.All',
        'Directory.Read.All',
        'Application.Read.All',
        'AgentIdentity.Read.All',
        'User.Read.All',
        'GroupMember.Read.All',
      ]),
    );
    for (const absent of ['Mail.Send', 'AgentIdentity.DeleteRestore.All', 'CustomSecAttributeAssignment.Read.All', 'Application.ReadWrite.OwnedBy']) {
      expect(selected).not.toContain(absent);
    }
    expect(new Set(selected).size).toBe(selected.length);
  });

  it('adds the optional permissions only when asked', () => {
    const selected = planned(
      '--features',
      'containment,approvals,lifecycle,mail',
      '--with-delete',
      '--with-expiry-attribute',
      '--sp-disable',
      'owned',
    );
    expect(selected).toEqual(
      expect.arrayContaining(['Mail.Send', 'AgentIdentity.DeleteRestore.All', 'CustomSecAttributeAssignment.Read.All', 'Application.ReadWrite.OwnedBy']),
    );
    expect(selected).not.toContain('Application.ReadWrite.All');
    expect(planned('--features', 'mail')).toEqual(['Mail.Send']);
  });

  it('looks app roles up by value on the Microsoft Graph service principal and grants the Sentinel Responder role', () => {
    const text = read(script);
    expect(text).toContain("GRAPH_APP_ID='00000003-0000-0000-c000-000000000000'");
    expect(text).toContain(`--query "appRoles[?value=='$permission'].id | [0]"`);
    expect(text).toContain("SENTINEL_RESPONDER_ROLE_ID='3e150937-b8fe-4cfb-8069-0eaf05ecd056'");
    expect(text).toMatch(/if \[\[ \$APPLY -eq 1 \]\]; then\s+body=/);
  });

  it('is documented in the README', () => {
    const readme = read(repo, 'README.md');
    for (const row of table) {
      expect(readme, row.permission).toContain(`\`${row.permission}\``);
    }
  });
});
