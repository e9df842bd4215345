import { describe, expect, it } from 'vitest';
import { containPlanner } from '../../../shared/containment/contain-planner';
import { releasePlanner } from '../../../shared/containment/release-planner';
import type { Graph, GraphCall } from '../../../shared/graph/graph-client';
import type { IdentityKind } from '../../../shared/graph/identity-kind';
import type { CaseRecord, TargetRecord } from '../../../shared/store/case-model';

const ID = 'a9e00000-0000-4000-8000-000000000001';

function target(kind: IdentityKind, extra: Partial<TargetRecord> = {}): TargetRecord {
  return { key: `oid:${ID}`, ref: { by: 'objectId', objectId: ID }, plan: 'contain', round: 0, status: 'pending', objectId: ID, kind, displayName: 'Contoso Invoice Agent', receivedAt: '2026-11-20T09:00:00.000Z', ...extra };
}

/** A Graph that records calls and answers 204, and a risk coalescer that records submissions. */
function fakes() {
  const calls: string[] = [];
  const graph: Graph = {
    call: (call: GraphCall) => {
      calls.push(`${call.method} ${call.version ?? 'v1.0'}${call.path} ${JSON.stringify(call.body ?? null)}`);
      return Promise.resolve({ status: 204, body: undefined as never, requestId: 'r-1' });
    },
    next: () => Promise.reject(new Error('no paging here')),
  };
  const risk = { submit: (api: string, action: string, ids: readonly string[]) => (calls.push(`risk ${api} ${action} ${ids.join(',')}`), Promise.resolve('r-2')) };
  const logAnalytics = { getAlert: () => Promise.reject(new Error('not used')) };
  const sentinel = { getIncident: () => Promise.reject(new Error('not used')), listEntities: () => Promise.reject(new Error('not used')), workspaceCustomerId: () => Promise.reject(new Error('not used')) };
  const config = { SENTINEL_VERIFY: true, SENTINEL_VERIFY_DISABLED_WORKSPACES: [], SENTINEL_WORKSPACES: [] };
  return { calls, deps: { graph, risk, logAnalytics, sentinel, config, now: Date.now, resolver: { resolve: () => Promise.resolve(new Map()) } } };
}

const record = { caseId: 'c', source: 'incident' } as CaseRecord;

describe('containPlanner', () => {
  it.each<[IdentityKind, string[]]>([
    ['agentIdentity', ['disable', 'confirm-compromised']],
    ['agentBlueprintPrincipal', ['disable', 'confirm-compromised']],
    ['servicePrincipal', ['disable', 'confirm-compromised']],
    ['agentUser', ['revoke-sessions', 'confirm-compromised']],
    ['user', ['revoke-sessions', 'confirm-compromised']],
    ['other', []],
  ])('plans the containment table for %s, the access cut first', (kind, actions) => {
    const steps = containPlanner(fakes().deps).steps(target(kind), record);
    expect(steps.map((s) => s.action)).toEqual(actions);
    expect(steps.filter((s) => s.cutsAccess).map((s) => s.action)).toEqual(actions.slice(0, 1));
    expect(steps.every((s) => s.idempotent)).toBe(true);
    for (const s of steps) {
      expect(s.description).toContain('Contoso Invoice Agent');
    }
  });

  it('disables through the typed URL of each kind, and confirms in its own risk collection', async () => {
    const cases: [IdentityKind, string, string][] = [
      ['agentIdentity', `PATCH v1.0/servicePrincipals/${ID}/microsoft.graph.agentIdentity {"accountEnabled":false}`, `risk riskyAgents confirmCompromised ${ID}`],
      ['servicePrincipal', `PATCH v1.0/servicePrincipals/${ID} {"accountEnabled":false}`, `risk riskyServicePrincipals confirmCompromised ${ID}`],
      ['agentBlueprintPrincipal', `PATCH v1.0/servicePrincipals/${ID}/microsoft.graph.agentIdentityBlueprintPrincipal {"accountEnabled":false}`, `risk riskyAgents confirmCompromised ${ID}`],
      ['agentUser', `POST v1.0/users/${ID}/revokeSignInSessions null`, `risk riskyAgents confirmCompromised ${ID}`],
      ['user', `POST v1.0/users/${ID}/revokeSignInSessions null`, `risk riskyUsers confirmCompromised ${ID}`],
    ];
    for (const [kind, cut, confirm] of cases) {
      const { calls, deps } = fakes();
      for (const step of containPlanner(deps).steps(target(kind), record)) {
        await step.run({});
      }
      expect(calls).toEqual([cut, confirm]);
    }
  });
});

describe('releasePlanner', () => {
  it('re-enables what containment disabled and dismisses the risk; an account that signs in is only dismissed', async () => {
    const { calls, deps } = fakes();
    for (const step of releasePlanner(deps).steps(target('agentIdentity', { plan: 'release', round: 1, approvedBy: 'Approver 1' }), record)) {
      await step.run({});
    }
    expect(calls).toEqual([`PATCH v1.0/servicePrincipals/${ID}/microsoft.graph.agentIdentity {"accountEnabled":true}`, `risk riskyAgents dismiss ${ID}`]);
    expect(releasePlanner(deps).steps(target('agentUser'), record).map((s) => s.action)).toEqual(['dismiss-risk']);
  });
});
