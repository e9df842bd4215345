/**
 * Least privilege, checked offline: the grant script's table, its JSON, the app's own copy and Graph's documented
 * permission for every call the table lists (the tenant simulator's route table, written from the Graph API
 * reference) must agree, and broad permissions come only from explicit opt-in features.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CSA_READ_PERMISSION, OWNED_BY_ROUTES, ROUTE_PERMISSIONS, allowsRoute, type RoutePermission } from '../../../dev/simulator/graph-permissions';
import { FEATURE_PERMISSIONS, GRAPH_FEATURES, enabledGraphFeatures, type GraphFeature } from '../../../shared/permissions/graph-permission-table';
import { plannedPermissions } from '../../helpers/planned-permissions';

const repo = join(__dirname, '..', '..', '..');
const script = join(repo, 'infra', 'grant-graph-permissions.sh');
const run = (...args: string[]) => spawnSync('bash', [script, ...args], { encoding: 'utf8' });

const row = z
  .object({
    feature: z.enum(GRAPH_FEATURES),
    permission: z.string().regex(/^[A-Za-z]+(\.[A-Za-z-]+)+$/),
    why: z.string().min(20),
    calls: z.array(z.string().regex(/^(GET|POST|PATCH|DELETE) \//)).min(1),
  })
  .strict();
const table = z.array(row).parse(JSON.parse(readFileSync(join(repo, 'infra', 'graph-permissions.json'), 'utf8')));

/** A call as the reference pages write it, or a simulator route key, reduced to one comparable form. */
function normalise(call: string): string {
  return call.replace(/microsoft\.graph\./g, '').replace(/\{[^}]*\}/g, '{}').replace(/\?.*$/, '');
}

const routes = new Map<string, { key: string; permission: RoutePermission }>(
  Object.entries(ROUTE_PERMISSIONS).map(([key, permission]) => [normalise(key), { key, permission }]),
);

function routeOf(call: string): { key: string; permission: RoutePermission } {
  const found = routes.get(normalise(call));
  expect(found, `the simulator's permission table documents ${call}`).toBeDefined();
  return found ?? { key: '', permission: { least: [], higher: [] } };
}

describe('infra/graph-permissions.json', () => {
  it('is generated from the table in the grant script', () => {
    expect(JSON.parse(execFileSync('bash', [script, '--emit-json'], { encoding: 'utf8' })) as unknown).toEqual(table);
  });

  it('agrees with the app\'s own feature table (shared/permissions)', () => {
    for (const feature of GRAPH_FEATURES) {
      const fromScript = [...new Set(table.filter((r) => r.feature === feature).map((r) => r.permission))];
      expect([...FEATURE_PERMISSIONS[feature]].sort(), feature).toEqual(fromScript.sort());
    }
  });

  it.each(table.map((r) => [r.feature, r.permission, r] as const))('%s: %s is a documented permission of each call it is granted for', (_f, _p, r) => {
    for (const call of r.calls) {
      const { key, permission } = routeOf(call);
      const documented = [permission.least, ...permission.higher].some((set) => set.includes(r.permission));
      const ownedBy = r.permission === 'Application.ReadWrite.OwnedBy' && OWNED_BY_ROUTES.has(key);
      const attribute = r.permission === CSA_READ_PERMISSION;
      expect(documented || ownedBy || attribute, `${r.permission} for ${call}`).toBe(true);
    }
  });

  it.each(table.map((r) => [r.feature, r.permission, r] as const))('%s: %s is the least-privileged choice for at least one of its calls', (_f, _p, r) => {
    const least = r.calls.some((call) => routeOf(call).permission.least.includes(r.permission));
    // OwnedBy is the documented least for service principals the caller owns; the attribute read comes on top.
    const exception = r.permission === 'Application.ReadWrite.OwnedBy' || r.permission === CSA_READ_PERMISSION;
    expect(least || exception).toBe(true);
  });

  /** Features that add to another one (an attribute read on top of the lifecycle's own reads). */
  const base: Partial<Record<GraphFeature, GraphFeature[]>> = { 'lifecycle-delete': ['lifecycle'], 'lifecycle-expiry-attribute': ['lifecycle'] };

  it.each(GRAPH_FEATURES.filter((f) => !f.startsWith('sp-disable')))('the plan for %s allows every call that feature lists', (feature) => {
    const granted = plannedPermissions([...(base[feature] ?? []), feature]);
    for (const r of table.filter((t) => t.feature === feature)) {
      for (const call of r.calls) {
        expect(allowsRoute(granted, routeOf(call).permission), `${feature} may call ${call}`).toBe(true);
      }
    }
  });
});

describe('infra/grant-graph-permissions.sh --plan-only', () => {
  const union = (features: GraphFeature[]) => [...new Set(features.flatMap((f) => FEATURE_PERMISSIONS[f]))].sort();

  it('prints exactly the permissions of the default features: containment, approvals and lifecycle', () => {
    expect(plannedPermissions(['containment', 'approvals', 'lifecycle']).sort()).toEqual(union(['containment', 'approvals', 'lifecycle']));
    const out = run('--plan-only');
    expect(out.status).toBe(0);
    const printed = out.stdout.trim().split('\n').map((l) => l.split('\t')[0]);
    expect(printed.sort()).toEqual(union(['containment', 'approvals', 'lifecycle']));
    expect(new Set(printed).size).toBe(printed.length);
  });

  it.each(GRAPH_FEATURES)('prints exactly the permissions of %s alone', (feature) => {
    expect(plannedPermissions([feature]).sort()).toEqual(union([feature]));
  });

  it('grants Application.ReadWrite.All only through the sp-disable-any opt-in, with its reason printed', () => {
    const withoutOptIn = GRAPH_FEATURES.filter((f) => f !== 'sp-disable-any');
    expect(plannedPermissions(withoutOptIn)).not.toContain('Application.ReadWrite.All');
    expect(plannedPermissions(withoutOptIn)).not.toContain('Directory.ReadWrite.All');
    const optIn = run('--plan-only', '--features', 'containment,sp-disable-any');
    expect(optIn.stdout).toMatch(/^Application\.ReadWrite\.All\t\[sp-disable-any\] .*documents nothing narrower/m);
    expect(optIn.stderr).toContain('NOTE sp-disable-any grants Application.ReadWrite.All');
  });

  it('prints the trade-off when classic service principals cannot be disabled', () => {
    const out = run('--plan-only', '--features', 'containment');
    expect(out.stderr).toContain('classic (non-agent) service principals are NOT disabled');
    expect(out.stdout).not.toContain('NOTE');
  });

  it('keeps the earlier flags as spellings of the features', () => {
    const old = run('--plan-only', '--features', 'lifecycle', '--with-delete', '--with-expiry-attribute', '--sp-disable', 'owned');
    expect(old.stdout.trim().split('\n').map((l) => l.split('\t')[0]).sort()).toEqual(
      union(['lifecycle', 'lifecycle-delete', 'lifecycle-expiry-attribute', 'sp-disable-owned']),
    );
  });

  it('refuses an unknown feature, and a grant without the identity\'s object id', () => {
    const bad = run('--plan-only', '--features', 'containment,everything');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown feature 'everything'");
    const noPrincipal = run('--apply');
    expect(noPrincipal.status).toBe(2);
    expect(noPrincipal.stderr).toContain('--principal-id');
  });

  it('looks app roles up by value on the Microsoft Graph service principal and assigns the workspace roles', () => {
    const text = readFileSync(script, 'utf8');
    expect(text).toContain("GRAPH_APP_ID='00000003-0000-0000-c000-000000000000'");
    expect(text).toContain(`--query "appRoles[?value=='$permission'].id | [0]"`);
    expect(text).toContain("SENTINEL_RESPONDER_ROLE_ID='3e150937-b8fe-4cfb-8069-0eaf05ecd056'");
    expect(text).toContain("LOG_ANALYTICS_READER_ROLE_ID='73c42c96-874c-492b-b04d-ab87d138a893'");
    expect(text).toMatch(/if \[\[ \$APPLY -eq 1 \]\]; then\s+body=/);
  });
});

describe('enabledGraphFeatures', () => {
  const base = { APPROVAL_SIGNING_KEY: undefined, APPROVAL_MAIL_SENDER: undefined, LIFECYCLE_DELETE_ENABLED: false, LIFECYCLE_EXPIRY_ATTRIBUTE: undefined };

  it('always runs containment and lifecycle, and adds features as their settings are set', () => {
    expect(enabledGraphFeatures(base)).toEqual(['containment', 'lifecycle']);
    expect(
      enabledGraphFeatures({ APPROVAL_SIGNING_KEY: 'k'.repeat(40), APPROVAL_MAIL_SENDER: 'soc@contoso.example', LIFECYCLE_DELETE_ENABLED: true, LIFECYCLE_EXPIRY_ATTRIBUTE: 'Agent.EndDate' }),
    ).toEqual(['containment', 'lifecycle', 'approvals', 'mail', 'lifecycle-delete', 'lifecycle-expiry-attribute']);
  });

  it('never turns on a classic service principal opt-in from settings', () => {
    const all = enabledGraphFeatures({ APPROVAL_SIGNING_KEY: 'k'.repeat(40), APPROVAL_MAIL_SENDER: 'x', LIFECYCLE_DELETE_ENABLED: true, LIFECYCLE_EXPIRY_ATTRIBUTE: 'A.B' });
    expect(all.filter((f) => f.startsWith('sp-disable'))).toEqual([]);
  });
});

describe('README', () => {
  it('documents every permission of the table', () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    for (const r of table) {
      expect(readme, r.permission).toContain(`\`${r.permission}\``);
    }
  });
});
