/**
 * The azd flow: every setting reaches the Bicep from the azd environment, the hooks run in the right order, and the
 * approval signing key is created once and never replaced. Hooks are run for real with a stand-in `az` on PATH that
 * answers like the Azure CLI and records every call.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bicepParams, configPropertiesOf, infra, read, readJson, repo, withoutComments, at } from './infra-text';

const code = withoutComments(read(infra, 'main.bicep'));
const params = bicepParams(code);
const settings = configPropertiesOf(code, 'appsettings');
const parameters = at(readJson(infra, 'main.parameters.json'), 'parameters') as Record<string, { value: unknown }>;

/** Deployment-shape parameters azd leaves at their Bicep defaults (numbers and an array, not app settings). */
const NOT_FROM_AZD = ['maximumInstanceCount', 'instanceMemoryMB', 'authAllowedAudiences'];

describe('infra/main.parameters.json', () => {
  it('passes every parameter from the azd environment', () => {
    const expected = [...params.keys()].filter((p) => !NOT_FROM_AZD.includes(p)).sort();
    expect(Object.keys(parameters).sort()).toEqual(expected);
    for (const [name, { value }] of Object.entries(parameters)) {
      expect(value, name).toMatch(/^\$\{[A-Z][A-Z0-9_]*(=[^}]*)?\}$/);
    }
  });

  it('names each app setting\'s variable after the setting, as `azd env set <SETTING> <value>`', () => {
    for (const [setting, expression] of settings) {
      if (params.has(expression)) {
        expect(String(parameters[expression]?.value), setting).toMatch(new RegExp(`^\\$\\{${setting}(=|\\})`));
      }
    }
  });

  it('falls back to the Bicep default, so an unset variable means the app\'s default', () => {
    for (const [name, { value }] of Object.entries(parameters)) {
      const fallback = /=([^}]*)\}$/.exec(String(value))?.[1];
      const bicepDefault = params.get(name)?.defaultText;
      if (fallback !== undefined) {
        expect(bicepDefault, name).toBe(`'${fallback}'`);
      } else if (name !== 'location') {
        // No fallback: the variable may be unset (empty), which must be the Bicep default too.
        expect(bicepDefault, name).toBe("''");
      }
    }
  });

  it('keeps secrets out of defaults and takes the sign-in app from AUTH_CLIENT_ID', () => {
    for (const param of [...params.values()].filter((p) => p.secure)) {
      expect(String(parameters[param.name]?.value), param.name).toMatch(/^\$\{[A-Z_]+\}$/);
    }
    expect(parameters['authClientId']?.value).toBe('${AUTH_CLIENT_ID}');
    expect(parameters['approvalsEnabled']?.value).toBe('${APPROVALS_ENABLED=true}');
    expect(parameters['playbookPrincipalIds']?.value).toBe('${PLAYBOOK_PRINCIPAL_IDS}');
  });
});

describe('azure.yaml', () => {
  const yaml = read(repo, 'azure.yaml');

  it('deploys the repository as one TypeScript function app from infra/main.bicep', () => {
    expect(yaml).toMatch(/^\s+host: function$/m);
    expect(yaml).toMatch(/^\s+language: ts$/m);
    expect(yaml).toMatch(/^\s+path: infra$/m);
    expect(code).toMatch(/'azd-service-name': 'api'/);
  });

  it('checks the settings before provisioning and runs the postprovision hook after', () => {
    expect(yaml).toMatch(/preprovision:\s*\n\s+posix:\s*\n\s+shell: sh\s*\n\s+run: bash infra\/hooks\/preprovision\.sh/);
    expect(yaml).toMatch(/postprovision:\s*\n\s+posix:\s*\n\s+shell: sh\s*\n\s+run: bash infra\/hooks\/postprovision\.sh/);
    for (const script of ['preprovision.sh', 'postprovision.sh', 'ensure-signing-key.sh', 'deploy-playbooks.sh', 'configure-app-registration.sh']) {
      expect(existsSync(join(infra, 'hooks', script)), script).toBe(true);
      expect(spawnSync('bash', ['-n', join(infra, 'hooks', script)]).status, `${script} parses`).toBe(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Hooks, run with a stand-in `az`
// ---------------------------------------------------------------------------------------------------------------

const FAKE_AZ = `#!/usr/bin/env bash
# Stand-in for the Azure CLI: records argv, answers the calls the hooks make.
printf '%s\\n' "$*" >> "$FAKE_AZ_LOG"
case "$1 $2" in
  'rest --method')
    method=$3
    if [[ "$method" == get ]]; then
      case "$FAKE_AZ_SECRET" in
        exists) exit 0 ;;
        notfound) echo 'ERROR: (SecretNotFound) A secret with (name/id) APPROVAL-SIGNING-KEY was not found in this key vault.' >&2; exit 1 ;;
        *) echo 'ERROR: (AuthorizationFailed) The client does not have authorization to perform action' >&2; exit 1 ;;
      esac
    fi
    if [[ "$method" == put ]]; then
      for arg in "$@"; do [[ "$arg" == @* ]] && cat "\${arg#@}" > "$FAKE_AZ_BODY"; done
      exit 0
    fi ;;
  'functionapp config')
    if [[ "$4" == list ]]; then echo '@Microsoft.KeyVault(SecretUri=https://kv-ar-x.vault.azure.net/secrets/APPROVAL-SIGNING-KEY/)'; fi
    exit 0 ;;
esac
exit 0
`;

describe('infra/hooks/ensure-signing-key.sh', () => {
  let dir = '';
  const vault = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-ar-x';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fake-az-'));
    writeFileSync(join(dir, 'az'), FAKE_AZ);
    chmodSync(join(dir, 'az'), 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (secret: 'exists' | 'notfound' | 'forbidden') => {
    const result = spawnSync('bash', [join(infra, 'hooks', 'ensure-signing-key.sh'), vault, 'func-app', 'rg'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, FAKE_AZ_LOG: join(dir, 'log'), FAKE_AZ_BODY: join(dir, 'body'), FAKE_AZ_SECRET: secret },
    });
    const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : '';
    return { ...result, calls: log.trim().split('\n').filter(Boolean) };
  };

  it('creates the key once when Key Vault says it does not exist, with at least 32 random bytes kept off the command line', () => {
    const { status, calls, stdout } = run('notfound');
    expect(status).toBe(0);
    expect(stdout).toContain('APPROVAL-SIGNING-KEY created');
    const put = calls.filter((c) => c.startsWith('rest --method put'));
    expect(put).toHaveLength(1);
    expect(put[0]).toContain(`https://management.azure.com${vault}/secrets/APPROVAL-SIGNING-KEY?api-version=2023-07-01`);
    const body = JSON.parse(readFileSync(join(dir, 'body'), 'utf8')) as { properties: { value: string } };
    expect(Buffer.from(body.properties.value, 'base64').length).toBeGreaterThanOrEqual(32);
    expect(calls.join('\n')).not.toContain(body.properties.value);
    // The reference is written again so App Service resolves it now.
    expect(calls).toContainEqual(expect.stringMatching(/^functionapp config appsettings set -g rg -n func-app --settings APPROVAL_SIGNING_KEY=@Microsoft\.KeyVault/));
  });

  it('keeps an existing key: a redeploy never regenerates it', () => {
    const { status, calls, stdout } = run('exists');
    expect(status).toBe(0);
    expect(stdout).toContain('exists in the vault; kept');
    expect(calls.filter((c) => c.includes('--method put') || c.includes('appsettings set'))).toEqual([]);
  });

  it('creates nothing when it cannot tell whether the key exists (a failed read is not "absent")', () => {
    const { status, calls, stderr } = run('forbidden');
    expect(status).toBe(1);
    expect(stderr).toContain('was NOT created');
    expect(calls.filter((c) => c.includes('--method put'))).toEqual([]);
  });
});

describe('infra/hooks/preprovision.sh and postprovision.sh', () => {
  const hook = (name: string, env: Record<string, string>) =>
    spawnSync('bash', [join(infra, 'hooks', name)], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });

  it('stops before provisioning when approvals are on without an app registration', () => {
    const refused = hook('preprovision.sh', {});
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('AUTH_CLIENT_ID is not set');
    expect(hook('preprovision.sh', { APPROVALS_ENABLED: 'false' }).status).toBe(0);
    expect(hook('preprovision.sh', { AUTH_CLIENT_ID: '11111111-1111-4111-8111-111111111111' }).status).toBe(0);
  });

  it('stops before provisioning enforce mode without Sentinel workspaces', () => {
    const refused = hook('preprovision.sh', { APPROVALS_ENABLED: 'false', RESPONDER_MODE: 'enforce' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('SENTINEL_WORKSPACES');
  });

  it('prints the permission plan for the features the settings turn on, opt-ins included', () => {
    const out = hook('postprovision.sh', {
      AZURE_RESOURCE_GROUP: 'rg',
      functionAppName: 'func-app',
      principalId: '22222222-2222-4222-8222-222222222222',
      APPROVALS_ENABLED: 'false',
      APPROVAL_MAIL_SENDER: 'soc@contoso.example',
      GRAPH_OPT_IN_FEATURES: 'sp-disable-any',
      GRANT_GRAPH_PERMISSIONS: 'false',
    });
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('Plan for features containment,lifecycle,mail,sp-disable-any:');
    expect(out.stdout).toMatch(/^ {2}Mail\.Send\t\[mail\]/m);
    expect(out.stdout).toMatch(/^ {2}Application\.ReadWrite\.All\t\[sp-disable-any\]/m);
    expect(out.stdout).not.toContain('AgentIdentity.ReadWrite.All\t[approvals]');
    expect(out.stderr).toContain('NOTE sp-disable-any grants Application.ReadWrite.All');
    expect(out.stdout).toContain('GRANT_GRAPH_PERMISSIONS=false: not granted');
  });
});
