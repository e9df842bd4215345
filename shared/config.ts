import { z } from 'zod';
import { ConfigError, type FieldProblem } from './errors';

/**
 * Every setting the app reads, parsed once from the environment (app settings in Azure, `local.settings.json`
 * or the local host's environment locally). Nothing else in `shared/` or `functions/` reads `process.env`.
 * A bad or missing value stops start-up with one message naming every bad setting.
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A comma-, semicolon- or whitespace-separated list; empty string means an empty list. */
const list = (item: z.ZodType<string>, what: string) =>
  z
    .string()
    .default('')
    .transform((raw, ctx) => {
      const items = raw
        .split(/[\s,;]+/)
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      for (const value of items) {
        if (!item.safeParse(value).success) {
          ctx.addIssue({ code: 'custom', message: `"${value}" is not ${what}` });
        }
      }
      return items.map((s) => s.toLowerCase());
    });

const guidList = list(z.string().regex(GUID), 'a GUID (object id or appId)');
/** Sentinel workspaces as `subscriptionId/resourceGroup/workspaceName`. */
const workspaceList = list(z.string().regex(/^[0-9a-f-]{36}\/[^/\s]+\/[^/\s]+$/i), 'subscriptionId/resourceGroup/workspaceName');

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .default(fallback ? 'true' : 'false')
    .transform((v) => (v === '' ? fallback : v === 'true' || v === '1' || v === 'yes'));

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((v) => (v.trim() === '' ? fallback : Number(v)))
    .pipe(z.number().int().min(min).max(max));

const url = z.url({ protocol: /^https?$/ });
const optionalUrl = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim().replace(/\/+$/, '')))
  .pipe(url.optional());
/**
 * A webhook URL that is itself a secret (its `sig` query parameter authorises the caller): https only, except a
 * loopback address for the local simulator, so the secret never travels in clear text.
 */
const optionalSecretUrl = optionalUrl.refine(
  (v) => v === undefined || v.startsWith('https://') || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(`${v}/`),
  'must be an https URL',
);
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** An NCRONTAB expression with six fields (seconds first), as the Functions timer trigger takes. */
const ncrontab = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) => (v.trim() === '' ? fallback : v.trim()))
    .pipe(z.string().regex(/^\S+(\s+\S+){5}$/, 'must be an NCRONTAB expression with six fields'));

const configObject = z.object({
    AzureWebJobsStorage: optionalText,
    AzureWebJobsStorage__accountName: optionalText,
    GRAPH_ENDPOINT: z.string().default('https://graph.microsoft.com').transform((v) => v.replace(/\/+$/, '')).pipe(url),
    ARM_ENDPOINT: z.string().default('https://management.azure.com').transform((v) => v.replace(/\/+$/, '')).pipe(url),
    /** Log Analytics query API, where alerts are re-read (`SecurityAlert`); the token audience stays api.loganalytics.io. */
    LOG_ANALYTICS_ENDPOINT: z.string().default('https://api.loganalytics.io').transform((v) => v.replace(/\/+$/, '')).pipe(url),
    AZURE_CLIENT_ID: optionalText.pipe(z.string().regex(GUID).optional()),
    RESPONDER_MODE: z.enum(['enforce', 'report-only']).default('report-only'),
    /** The responder's own service principal object id; read from its token's `oid` claim when unset. */
    RESPONDER_OBJECT_ID: optionalText.pipe(z.string().regex(GUID).optional()),
    PROTECTED_IDENTITIES: guidList,
    REQUIRE_APPROVAL_IDENTITIES: guidList,
    BLAST_RADIUS_PER_HOUR: int(25, 1, 100_000),

    TICKET_PROVIDER: z.enum(['servicenow', 'jira', 'webhook', 'none']).default('none'),
    SERVICENOW_INSTANCE_URL: optionalUrl,
    SERVICENOW_USERNAME: optionalText,
    SERVICENOW_PASSWORD: optionalText,
    JIRA_BASE_URL: optionalUrl,
    JIRA_EMAIL: optionalText,
    JIRA_API_TOKEN: optionalText,
    JIRA_PROJECT_KEY: optionalText.pipe(z.string().regex(/^[A-Z][A-Z0-9_]+$/).optional()),
    JIRA_ISSUE_TYPE: z.string().default('Task'),
    TICKET_WEBHOOK_URL: optionalUrl,
    TICKET_WEBHOOK_SECRET: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),

    PUBLIC_BASE_URL: optionalUrl,
    APPROVAL_SIGNING_KEY: optionalText.pipe(
      z
        .string()
        .refine((v) => decodeKey(v).length >= 32, 'must hold at least 32 bytes (base64 or text)')
        .optional(),
    ),
    APPROVERS: guidList,
    /** Who may read the case pages besides `APPROVERS`: user and group object ids (groups checked through Graph). */
    CASE_VIEWERS: guidList,
    /** Teams Workflows webhook ("When a Teams webhook request is received") for approval cards; a secret. */
    TEAMS_WEBHOOK_URL: optionalSecretUrl,
    APPROVAL_TTL_HOURS: int(24, 1, 24 * 14),
    APPROVAL_QUORUM: int(1, 1, 10),
    BLUEPRINT_RELEASE_QUORUM: int(2, 1, 10),
    APPROVAL_MAIL_SENDER: optionalText,
    APPROVAL_EXPIRY_SCHEDULE: ncrontab('0 */5 * * * *'),

    LIFECYCLE_SWEEP_SCHEDULE: ncrontab('0 0 * * * *'),
    LIFECYCLE_WARN_DAYS: int(14, 0, 365),
    LIFECYCLE_GRACE_DAYS: int(30, 0, 3650),
    LIFECYCLE_DELETE_ENABLED: bool(false),
    LIFECYCLE_AGENT_TAG: z.string().default('agent'),
    LIFECYCLE_EXPIRY_TAG_PREFIX: z.string().default('agent-expires:'),
    /** `AttributeSet.AttributeName` of a custom security attribute holding the end date, if used. */
    LIFECYCLE_EXPIRY_ATTRIBUTE: optionalText.pipe(z.string().regex(/^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$/).optional()),
    DRIFT_CHECK_SCHEDULE: ncrontab('0 */15 * * * *'),

    INTAKE_ALLOWED_CALLERS: guidList,
    SENTINEL_WORKSPACES: workspaceList,
    SENTINEL_VERIFY: bool(true),
    SENTINEL_VERIFY_DISABLED_WORKSPACES: workspaceList,
    /**
     * Set by App Service when its Authentication module ("Easy Auth") is on: `True`, the app registration's
     * client id and the OpenID issuer. The app verifies the Entra tokens Easy Auth passes against them; without
     * them no signed-in principal is trusted (approvals and releases are refused).
     */
    WEBSITE_AUTH_ENABLED: z
      .string()
      .default('')
      .transform((v) => v.trim().toLowerCase())
      .pipe(z.enum(['true', 'false', '']))
      .transform((v) => v === 'true'),
    WEBSITE_AUTH_CLIENT_ID: optionalText,
    WEBSITE_AUTH_OPENID_ISSUER: optionalUrl,
    /** Explicit opt-outs: enforce mode refuses to start with an empty allow-list unless one of these says so. */
    INTAKE_ALLOW_ANY_CALLER: bool(false),
    INTAKE_ALLOW_ANY_WORKSPACE: bool(false),
    /** People (not agents) are confirmed compromised and signed out only when this is on. */
    CONTAIN_HUMAN_USERS: bool(false),
    /** Incidents and alerts below this severity (Sentinel's, read back at the source) are not acted on. */
    MIN_INCIDENT_SEVERITY: z.enum(['Informational', 'Low', 'Medium', 'High']).default('Low'),
    /** Stops every Graph, ARM and ticket write (see shared/control/emergency-stop.ts). */
    EMERGENCY_STOP: bool(false),
    /** Cases, their steps, audit rows and raw bodies are kept this long. */
    RETENTION_DAYS: int(90, 1, 3650),
    /**
     * How long a worker holds a case without renewing (renewed every third of it while it runs): a crashed worker's
     * case is taken over after at most this long. Longer than one outbound call attempt (10 s).
     */
    CASE_LEASE_SECONDS: int(15, 2, 300),
    RETENTION_SCHEDULE: ncrontab('0 30 3 * * *'),

    /** Application Insights: set by the deployment; unset, telemetry stays off (spans and metrics are no-ops). */
    APPLICATIONINSIGHTS_CONNECTION_STRING: optionalText,
    /** `Authorization=AAD` (with `ClientId=<user-assigned identity>`): export with the managed identity, as the resource requires. */
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: optionalText.pipe(
      z
        .string()
        .regex(/^(ClientId=[0-9a-f-]{36};)?Authorization=AAD$/i, 'must be "Authorization=AAD" or "ClientId=<guid>;Authorization=AAD"')
        .optional(),
    ),
    /** Logs Ingestion API of the audit pipeline (data collection endpoint, rule, stream); all three or none. */
    AUDIT_INGESTION_ENDPOINT: optionalSecretUrl,
    AUDIT_DCR_IMMUTABLE_ID: optionalText.pipe(z.string().regex(/^dcr-[0-9a-f]{32}$/i, 'must be a data collection rule immutable id (dcr-…)').optional()),
    AUDIT_STREAM_NAME: optionalText.pipe(z.string().regex(/^Custom-[A-Za-z0-9_]{1,100}$/, 'must be a custom stream name (Custom-…)').optional()),
  });

type ParsedSettings = z.infer<typeof configObject>;

/**
 * Rules across settings. They run even when some field is bad (`when`), so one message names every bad
 * setting at once; a bad field may still hold its raw text here, which these checks tolerate.
 */
function crossFieldRules(c: ParsedSettings, ctx: z.RefinementCtx<ParsedSettings>): void {
  // App Service passes an unresolved Key Vault reference through as its literal text: never use it as a value.
  for (const [key, value] of Object.entries(c)) {
    if (typeof value === 'string' && value.startsWith('@Microsoft.KeyVault(')) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'is an unresolved Key Vault reference (check the identity has Key Vault Secrets User)' });
    }
  }
  const need = (when: boolean, keys: (keyof typeof c)[], why: string) => {
    if (!when) {
      return;
    }
    for (const key of keys) {
      if (c[key] === undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: `required when ${why}` });
      }
    }
  };
  if (c.AzureWebJobsStorage === undefined && c.AzureWebJobsStorage__accountName === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['AzureWebJobsStorage'],
      message: 'required (a connection string, or AzureWebJobsStorage__accountName for identity-based access)',
    });
  }
  need(c.TICKET_PROVIDER === 'servicenow', ['SERVICENOW_INSTANCE_URL', 'SERVICENOW_USERNAME', 'SERVICENOW_PASSWORD'], 'TICKET_PROVIDER is servicenow');
  need(c.TICKET_PROVIDER === 'jira', ['JIRA_BASE_URL', 'JIRA_EMAIL', 'JIRA_API_TOKEN', 'JIRA_PROJECT_KEY'], 'TICKET_PROVIDER is jira');
  need(c.TICKET_PROVIDER === 'webhook', ['TICKET_WEBHOOK_URL', 'TICKET_WEBHOOK_SECRET'], 'TICKET_PROVIDER is webhook');
  const auditIngestion = ['AUDIT_INGESTION_ENDPOINT', 'AUDIT_DCR_IMMUTABLE_ID', 'AUDIT_STREAM_NAME'] as const;
  need(auditIngestion.some((key) => c[key] !== undefined), [...auditIngestion], 'audit ingestion is configured');
  need(c.APPROVAL_SIGNING_KEY !== undefined || c.PUBLIC_BASE_URL !== undefined, ['PUBLIC_BASE_URL', 'APPROVAL_SIGNING_KEY'], 'approvals are configured');
  // Safe defaults: in enforce mode an empty allow-list would accept any caller or any workspace.
  if (c.RESPONDER_MODE === 'enforce' && c.INTAKE_ALLOWED_CALLERS.length === 0 && !c.INTAKE_ALLOW_ANY_CALLER) {
    ctx.addIssue({
      code: 'custom',
      path: ['INTAKE_ALLOWED_CALLERS'],
      message: 'must name the playbooks\' identities in enforce mode (or set INTAKE_ALLOW_ANY_CALLER=true to accept any caller with the function key)',
    });
  }
  if (c.RESPONDER_MODE === 'enforce' && c.SENTINEL_WORKSPACES.length === 0 && !c.INTAKE_ALLOW_ANY_WORKSPACE) {
    ctx.addIssue({
      code: 'custom',
      path: ['SENTINEL_WORKSPACES'],
      message: 'must name your Sentinel workspaces in enforce mode (or set INTAKE_ALLOW_ANY_WORKSPACE=true to accept bodies from any workspace)',
    });
  }
}

export const configSchema = configObject.check(z.superRefine(crossFieldRules, { when: () => true }));

export type Config = z.infer<typeof configSchema>;

/** The approval signing key as bytes: base64 when it decodes to ≥ 32 bytes, otherwise the UTF-8 text. */
export function decodeKey(value: string): Buffer {
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length >= 32) {
      return bytes;
    }
  }
  return Buffer.from(value, 'utf8');
}

/**
 * Parses the settings. Throws one {@link ConfigError} naming every bad setting (never its value, which may
 * be a secret).
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (result.success) {
    return result.data;
  }
  const fields: FieldProblem[] = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(settings)',
    message: issue.message,
  }));
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  throw new ConfigError(`Invalid settings: ${summary}`, fields);
}

let cached: Config | undefined;

/** The process-wide settings, parsed on first use from `process.env`. */
export function getConfig(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}
