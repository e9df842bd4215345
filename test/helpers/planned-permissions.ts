import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { GRAPH_FEATURES, enabledGraphFeatures } from '../../shared/permissions/graph-permission-table';

const SCRIPT = resolve(__dirname, '..', '..', 'infra', 'grant-graph-permissions.sh');

/** The features the app runs with under `simulatorAppEnv` (approval keys and a mail sender are set there). */
export const E2E_GRAPH_FEATURES: readonly string[] = ['containment', 'lifecycle', 'approvals', 'mail'];

/** The grant-script features the app's settings turn on, as the app itself derives them (shared/permissions). */
export function graphFeaturesFor(env: Record<string, string | undefined>): string[] {
  const set = (key: string) => (env[key]?.trim() ? env[key] : undefined);
  return enabledGraphFeatures({
    APPROVAL_SIGNING_KEY: set('APPROVAL_SIGNING_KEY'),
    APPROVAL_MAIL_SENDER: set('APPROVAL_MAIL_SENDER'),
    LIFECYCLE_DELETE_ENABLED: ['true', '1', 'yes'].includes(env['LIFECYCLE_DELETE_ENABLED'] ?? ''),
    LIFECYCLE_EXPIRY_ATTRIBUTE: set('LIFECYCLE_EXPIRY_ATTRIBUTE'),
  });
}

const cache = new Map<string, string[]>();

/**
 * The Graph application permissions `infra/grant-graph-permissions.sh --plan-only` prints for `features`: what a
 * deployment with those features is granted, and so what the tenant simulator should grant in tests.
 */
export function plannedPermissions(features: readonly string[]): string[] {
  const key = features.join(',');
  let planned = cache.get(key);
  if (!planned) {
    const out = execFileSync('bash', [SCRIPT, '--plan-only', '--features', key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    planned = out
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.split('\t')[0] ?? '');
    cache.set(key, planned);
  }
  return [...planned];
}

/**
 * What the grant script grants with every feature on, opt-ins included: for tests of the Graph layer and the
 * simulator that call across features. Still what a deployment can be granted, never the simulator's "all".
 */
export function everyFeaturePermissions(): string[] {
  return plannedPermissions(GRAPH_FEATURES);
}
