/**
 * The Sentinel playbooks (incident, alert and entity triggers) and the automation rule, as ARM JSON: parameters,
 * the trigger, the call to the intake, the content-hub metadata, and a body the real intake parser accepts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAlert } from '../../../shared/alerts/parse-alert';
import { arr, at, infra, rec, repo, readJson, type Json } from './infra-text';

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
  {
    file: 'entity-trigger.json',
    trigger: 'Microsoft_Sentinel_entity',
    path: "/entity/@{encodeURIComponent('Account')}",
    source: 'entity',
    sample: () => fixture('entity-trigger.json', 'entity-trigger.json'),
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

  it('carries the content-hub metadata Sentinel shows for a playbook template', () => {
    const metadata = rec(template.metadata, 'metadata');
    expect(String(metadata.title)).toMatch(/^Agent responders: /);
    expect(arr(metadata.entities, 'entities')).toContain('Account');
    expect(at(metadata, 'support', 'tier')).toBe('community');
    expect(arr(metadata.postDeployment, 'postDeployment').join(' ')).toContain('Microsoft Sentinel Automation Contributor');
    expect(at(workflow, 'tags', 'hidden-SentinelTemplateName')).toMatch(/^agent-responders-(incident|alert|entity)$/);
    expect(at(workflow, 'tags', 'hidden-SentinelTemplateVersion')).toBe(at(template, 'variables', 'playbookVersion'));
    const content = rec(
      resources.find((r) => r.type === 'Microsoft.SecurityInsights/metadata'),
      'the Microsoft.SecurityInsights/metadata resource',
    );
    expect(content.condition).toBe("[not(empty(parameters('WorkspaceName')))]");
    expect(content.scope).toBe("[concat('Microsoft.OperationalInsights/workspaces/', parameters('WorkspaceName'))]");
    expect(at(content, 'properties', 'kind')).toBe('Playbook');
    expect(at(content, 'properties', 'parentId')).toBe("[resourceId('Microsoft.Logic/workflows', parameters('PlaybookName'))]");
    expect(at(content, 'properties', 'contentId')).toBe("[variables('playbookContentId')]");
    expect(at(content, 'properties', 'source', 'kind')).toBe('Community');
    expect(at(content, 'properties', 'support', 'tier')).toBe('Community');
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
