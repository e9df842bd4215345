import { describe, expect, it } from 'vitest';
import { decodeKey, loadConfig, type Config } from '../../shared/config';
import { ConfigError } from '../../shared/errors';

const STORAGE = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
const GUID_A = 'a9e00000-0000-4000-8000-000000000001';
const GUID_B = 'c1a55000-0000-4000-8000-000000000002';
const KEY_32 = Buffer.alloc(32, 9).toString('base64');

/** The ConfigError `loadConfig` throws for `env`; fails the test when the settings are accepted. */
function refused(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`settings were accepted: ${JSON.stringify(env)}`);
}

function fieldsOf(err: ConfigError): string[] {
  return err.fields.map((f) => f.field);
}

describe('loadConfig', () => {
  it('applies the documented defaults when only storage is set', () => {
    const c: Config = loadConfig(STORAGE);
    expect(c).toMatchObject({
      GRAPH_ENDPOINT: 'https://graph.microsoft.com',
      ARM_ENDPOINT: 'https://management.azure.com',
      RESPONDER_MODE: 'report-only',
      TICKET_PROVIDER: 'none',
      BLAST_RADIUS_PER_HOUR: 25,
      PROTECTED_IDENTITIES: [],
      REQUIRE_APPROVAL_IDENTITIES: [],
      APPROVERS: [],
      INTAKE_ALLOWED_CALLERS: [],
      SENTINEL_WORKSPACES: [],
      SENTINEL_VERIFY: true,
      INTAKE_ALLOW_ANY_CALLER: false,
      INTAKE_ALLOW_ANY_WORKSPACE: false,
      CONTAIN_HUMAN_USERS: false,
      MIN_INCIDENT_SEVERITY: 'Low',
      EMERGENCY_STOP: false,
      RETENTION_DAYS: 90,
      APPROVAL_TTL_HOURS: 24,
      APPROVAL_QUORUM: 1,
      BLUEPRINT_RELEASE_QUORUM: 2,
      APPROVAL_EXPIRY_SCHEDULE: '0 */5 * * * *',
      LIFECYCLE_SWEEP_SCHEDULE: '0 0 * * * *',
      LIFECYCLE_WARN_DAYS: 14,
      LIFECYCLE_GRACE_DAYS: 30,
      LIFECYCLE_DELETE_ENABLED: false,
      DRIFT_CHECK_SCHEDULE: '0 */15 * * * *',
      JIRA_ISSUE_TYPE: 'Task',
    });
    expect(c.AZURE_CLIENT_ID).toBeUndefined();
    expect(c.PUBLIC_BASE_URL).toBeUndefined();
    expect(c.APPROVAL_SIGNING_KEY).toBeUndefined();
  });

  it('refuses enforce mode with an empty caller or workspace allow-list unless an opt-out says so, naming it', () => {
    const enforce = { ...STORAGE, RESPONDER_MODE: 'enforce' };
    const problem = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return undefined;
      } catch (err) {
        return (err as ConfigError).fields.map((f) => `${f.field}: ${f.message}`).join('\n');
      }
    };
    const both = problem(enforce) ?? '';
    expect(both).toMatch(/INTAKE_ALLOWED_CALLERS: .*INTAKE_ALLOW_ANY_CALLER=true/);
    expect(both).toMatch(/SENTINEL_WORKSPACES: .*INTAKE_ALLOW_ANY_WORKSPACE=true/);
    expect(problem({ ...enforce, INTAKE_ALLOWED_CALLERS: 'b0a70000-0000-4000-8000-000000000001', INTAKE_ALLOW_ANY_WORKSPACE: 'true' })).toBeUndefined();
    expect(problem({ ...enforce, INTAKE_ALLOW_ANY_CALLER: 'true', SENTINEL_WORKSPACES: '11111111-2222-3333-4444-555555555555/soc-rg/soc-ws' })).toBeUndefined();
    expect(problem({ ...enforce, INTAKE_ALLOW_ANY_CALLER: 'true' })).toMatch(/^SENTINEL_WORKSPACES/);
    // Report-only changes nothing, so it starts with empty lists.
    expect(problem({ ...STORAGE, RESPONDER_MODE: 'report-only' })).toBeUndefined();
  });

  it('treats empty values as unset and trims trailing slashes from endpoints', () => {
    const c = loadConfig({
      ...STORAGE,
      GRAPH_ENDPOINT: 'http://127.0.0.1:5000/',
      ARM_ENDPOINT: 'https://management.usgovcloudapi.net//',
      BLAST_RADIUS_PER_HOUR: '',
      SENTINEL_VERIFY: '',
      AZURE_CLIENT_ID: ' ',
      SERVICENOW_INSTANCE_URL: '',
    });
    expect(c.GRAPH_ENDPOINT).toBe('http://127.0.0.1:5000');
    expect(c.ARM_ENDPOINT).toBe('https://management.usgovcloudapi.net');
    expect(c.BLAST_RADIUS_PER_HOUR).toBe(25);
    expect(c.SENTINEL_VERIFY).toBe(true);
    expect(c.AZURE_CLIENT_ID).toBeUndefined();
    expect(c.SERVICENOW_INSTANCE_URL).toBeUndefined();
  });

  it('reads booleans in the spellings app settings use', () => {
    expect(loadConfig({ ...STORAGE, SENTINEL_VERIFY: 'no', LIFECYCLE_DELETE_ENABLED: 'yes' })).toMatchObject({ SENTINEL_VERIFY: false, LIFECYCLE_DELETE_ENABLED: true });
    expect(loadConfig({ ...STORAGE, SENTINEL_VERIFY: '0', LIFECYCLE_DELETE_ENABLED: '1' })).toMatchObject({ SENTINEL_VERIFY: false, LIFECYCLE_DELETE_ENABLED: true });
  });

  it('accepts identity-based storage and refuses a configuration without any storage', () => {
    expect(loadConfig({ AzureWebJobsStorage__accountName: 'stresponders' }).AzureWebJobsStorage__accountName).toBe('stresponders');
    const err = refused({});
    expect(fieldsOf(err)).toEqual(['AzureWebJobsStorage']);
    expect(err.message).toContain('AzureWebJobsStorage__accountName');
  });

  it('names every bad setting in one message', () => {
    const err = refused({
      ...STORAGE,
      RESPONDER_MODE: 'contain-everything',
      BLAST_RADIUS_PER_HOUR: '0',
      APPROVAL_TTL_HOURS: 'a day',
      SENTINEL_VERIFY: 'maybe',
      GRAPH_ENDPOINT: 'graph.microsoft.com',
      AZURE_CLIENT_ID: 'my-identity',
      DRIFT_CHECK_SCHEDULE: '*/15 * * * *',
      JIRA_PROJECT_KEY: 'sec',
      TICKET_PROVIDER: 'email',
    });
    const expected = [
      'RESPONDER_MODE',
      'BLAST_RADIUS_PER_HOUR',
      'APPROVAL_TTL_HOURS',
      'SENTINEL_VERIFY',
      'GRAPH_ENDPOINT',
      'AZURE_CLIENT_ID',
      'DRIFT_CHECK_SCHEDULE',
      'JIRA_PROJECT_KEY',
      'TICKET_PROVIDER',
    ];
    expect(new Set(fieldsOf(err))).toEqual(new Set(expected));
    for (const name of expected) {
      expect(err.message).toContain(`${name}: `);
    }
    expect(err.code).toBe('InvalidConfiguration');
  });

  it('names missing settings that depend on others even when another setting is also bad', () => {
    const err = refused({ ...STORAGE, RESPONDER_MODE: 'bad', TICKET_PROVIDER: 'servicenow', SERVICENOW_INSTANCE_URL: 'https://x.service-now.com' });
    expect(new Set(fieldsOf(err))).toEqual(new Set(['RESPONDER_MODE', 'SERVICENOW_USERNAME', 'SERVICENOW_PASSWORD']));
  });

  it.each([
    ['servicenow', ['SERVICENOW_INSTANCE_URL', 'SERVICENOW_USERNAME', 'SERVICENOW_PASSWORD']],
    ['jira', ['JIRA_BASE_URL', 'JIRA_EMAIL', 'JIRA_API_TOKEN', 'JIRA_PROJECT_KEY']],
    ['webhook', ['TICKET_WEBHOOK_URL', 'TICKET_WEBHOOK_SECRET']],
  ])('requires every %s setting when TICKET_PROVIDER names it', (provider, names) => {
    const err = refused({ ...STORAGE, TICKET_PROVIDER: provider });
    expect(fieldsOf(err)).toEqual(names);
    for (const f of err.fields) {
      expect(f.message).toBe(`required when TICKET_PROVIDER is ${provider}`);
    }
  });

  it('accepts each ticket provider once its settings are complete', () => {
    expect(
      loadConfig({ ...STORAGE, TICKET_PROVIDER: 'servicenow', SERVICENOW_INSTANCE_URL: 'https://contoso.service-now.com/', SERVICENOW_USERNAME: 'svc', SERVICENOW_PASSWORD: 'pw' })
        .SERVICENOW_INSTANCE_URL,
    ).toBe('https://contoso.service-now.com');
    expect(
      loadConfig({ ...STORAGE, TICKET_PROVIDER: 'jira', JIRA_BASE_URL: 'https://contoso.atlassian.net', JIRA_EMAIL: 'soc@contoso.example', JIRA_API_TOKEN: 't', JIRA_PROJECT_KEY: 'SEC' })
        .JIRA_PROJECT_KEY,
    ).toBe('SEC');
    expect(loadConfig({ ...STORAGE, TICKET_PROVIDER: 'webhook', TICKET_WEBHOOK_URL: 'https://hooks.example/t', TICKET_WEBHOOK_SECRET: 'sixteen-chars-ok' }).TICKET_PROVIDER).toBe('webhook');
  });

  it('requires both the public URL and the signing key once either is set (approvals)', () => {
    expect(fieldsOf(refused({ ...STORAGE, PUBLIC_BASE_URL: 'https://responders.contoso.example' }))).toEqual(['APPROVAL_SIGNING_KEY']);
    expect(fieldsOf(refused({ ...STORAGE, APPROVAL_SIGNING_KEY: KEY_32 }))).toEqual(['PUBLIC_BASE_URL']);
    const c = loadConfig({ ...STORAGE, PUBLIC_BASE_URL: 'https://responders.contoso.example/', APPROVAL_SIGNING_KEY: KEY_32 });
    expect(c.PUBLIC_BASE_URL).toBe('https://responders.contoso.example');
  });

  it('reads lists of GUIDs separated by commas, semicolons or spaces, lower-cased', () => {
    const c = loadConfig({
      ...STORAGE,
      PROTECTED_IDENTITIES: ` ${GUID_A.toUpperCase()}, ${GUID_B};\n`,
      APPROVERS: `${GUID_A} ${GUID_B}`,
      INTAKE_ALLOWED_CALLERS: '',
    });
    expect(c.PROTECTED_IDENTITIES).toEqual([GUID_A, GUID_B]);
    expect(c.APPROVERS).toEqual([GUID_A, GUID_B]);
    expect(c.INTAKE_ALLOWED_CALLERS).toEqual([]);
  });

  it('refuses a list holding something other than a GUID, naming the setting', () => {
    const err = refused({ ...STORAGE, PROTECTED_IDENTITIES: `${GUID_A},Contoso Invoice Agent`, APPROVERS: 'soc-lead@contoso.example' });
    expect(new Set(fieldsOf(err))).toEqual(new Set(['PROTECTED_IDENTITIES', 'APPROVERS']));
  });

  it('reads Sentinel workspaces as subscription/resourceGroup/workspace', () => {
    const ws = '11111111-2222-3333-4444-555555555555/soc-rg/soc-ws';
    expect(loadConfig({ ...STORAGE, SENTINEL_WORKSPACES: ws.toUpperCase() }).SENTINEL_WORKSPACES).toEqual([ws]);
    expect(fieldsOf(refused({ ...STORAGE, SENTINEL_WORKSPACES: 'soc-ws' }))).toEqual(['SENTINEL_WORKSPACES']);
  });

  it.each(['SERVICENOW_PASSWORD', 'JIRA_API_TOKEN', 'TICKET_WEBHOOK_SECRET', 'APPROVAL_SIGNING_KEY', 'SERVICENOW_USERNAME'])(
    'refuses an unresolved Key Vault reference in %s',
    (name) => {
      const reference = '@Microsoft.KeyVault(SecretUri=https://kv-responders.vault.azure.net/secrets/ticket-secret/)';
      const err = refused({ ...STORAGE, PUBLIC_BASE_URL: 'https://responders.contoso.example', APPROVAL_SIGNING_KEY: KEY_32, [name]: reference });
      expect(fieldsOf(err)).toContain(name);
      expect(err.fields.find((f) => f.field === name)?.message).toMatch(/unresolved Key Vault reference/);
      expect(err.message).not.toContain('kv-responders');
    },
  );

  it('requires the approval signing key to hold at least 32 bytes, as base64 or as text', () => {
    const approvals = { ...STORAGE, PUBLIC_BASE_URL: 'https://responders.contoso.example' };
    expect(fieldsOf(refused({ ...approvals, APPROVAL_SIGNING_KEY: 'x'.repeat(31) }))).toEqual(['APPROVAL_SIGNING_KEY']);
    expect(loadConfig({ ...approvals, APPROVAL_SIGNING_KEY: 'x'.repeat(32) }).APPROVAL_SIGNING_KEY).toBe('x'.repeat(32));
    expect(loadConfig({ ...approvals, APPROVAL_SIGNING_KEY: KEY_32 }).APPROVAL_SIGNING_KEY).toBe(KEY_32);
    expect(decodeKey(KEY_32)).toEqual(Buffer.alloc(32, 9));
    expect(decodeKey('x'.repeat(32))).toEqual(Buffer.from('x'.repeat(32), 'utf8'));
  });

  it('never repeats a secret value in the error', () => {
    const secrets = {
      APPROVAL_SIGNING_KEY: 'tiny-signing-key-7781',
      TICKET_WEBHOOK_SECRET: 'hook-9931',
      SERVICENOW_PASSWORD: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/snow-pw-4410/)',
      JIRA_API_TOKEN: '@Microsoft.KeyVault(VaultName=kv;SecretName=jira-token-5520)',
    };
    const err = refused({ ...STORAGE, PUBLIC_BASE_URL: 'https://responders.contoso.example', TICKET_PROVIDER: 'webhook', TICKET_WEBHOOK_URL: 'https://hooks.example/t', ...secrets });
    expect(new Set(fieldsOf(err))).toEqual(new Set(Object.keys(secrets)));
    const everything = `${err.message} ${JSON.stringify(err.fields)}`;
    for (const needle of ['tiny-signing-key-7781', 'hook-9931', 'snow-pw-4410', 'jira-token-5520']) {
      expect(everything).not.toContain(needle);
    }
  });
});
