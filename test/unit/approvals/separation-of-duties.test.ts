import { describe, expect, it } from 'vitest';
import type { ApprovalEntity } from '../../../shared/approvals/approval-entity';
import type { ApprovalDeps } from '../../../shared/approvals/request-approval';
import { checkEligibility, isAccountableKind } from '../../../shared/approvals/separation-of-duties';
import type { SignedInPrincipal } from '../../../shared/auth/signed-in-principal';
import { loadConfig } from '../../../shared/config';
import { UpstreamError } from '../../../shared/errors';
import type { Graph, GraphCall } from '../../../shared/graph/graph-client';
import type { IdentityKind } from '../../../shared/graph/identity-kind';

const AGENT = 'a9e00000-0000-4000-8000-000000000001';
const ALICE = 'aaaaaaaa-0000-4000-8000-000000000001';
const BOB = 'bbbbbbbb-0000-4000-8000-000000000002';
const REQUESTER = 'cccccccc-0000-4000-8000-000000000003';
const RESPONDER = 'dddddddd-0000-4000-8000-000000000004';
const SOC_LEADS = '50c00000-0000-4000-8000-00000000000a';
const SPONSOR_GROUP = '5a0e0000-0000-4000-8000-00000000000b';

interface Directory {
  /** The groups (by id) each user is a transitive member of. */
  memberOf?: Record<string, string[]>;
  /** Sponsors and owners of the agent as Graph lists them now: `{ id, group? }`. */
  sponsors?: { id: string; group?: boolean }[];
  owners?: { id: string; group?: boolean }[];
  /** Transitive members of each group. */
  members?: Record<string, string[]>;
  /** A status the sponsors read answers instead of 200 (403: permission missing). */
  sponsorsStatus?: number;
  /** What checkMemberGroups throws. */
  membershipFails?: Error;
}

/** A Graph that answers the reads the eligibility rules make, from `dir`, and records them. */
function fakeGraph(dir: Directory) {
  const calls: string[] = [];
  const entries = (list: { id: string; group?: boolean }[] = []) => list.map((e) => ({ id: e.id, '@odata.type': e.group ? '#microsoft.graph.group' : '#microsoft.graph.user' }));
  const ok = <T>(body: unknown) => Promise.resolve({ status: 200, body: body as T, requestId: 'r-1' });
  const graph: Graph = {
    call<T>(call: GraphCall) {
      calls.push(`${call.method} ${call.path}`);
      const membership = /^\/users\/([^/]+)\/checkMemberGroups$/.exec(call.path);
      if (membership) {
        if (dir.membershipFails) {
          return Promise.reject(dir.membershipFails);
        }
        const asked = (call.body as { groupIds: string[] }).groupIds;
        return ok<T>({ value: (dir.memberOf?.[membership[1] ?? ''] ?? []).filter((g) => asked.includes(g)) });
      }
      if (call.path === '/$batch') {
        const requests = (call.body as { requests: { id: string; url: string }[] }).requests;
        return ok<T>({
          responses: requests.map((r) =>
            r.url.includes('/sponsors')
              ? dir.sponsorsStatus
                ? { id: r.id, status: dir.sponsorsStatus, body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges.' } } }
                : { id: r.id, status: 200, body: { value: entries(dir.sponsors) } }
              : { id: r.id, status: 200, body: { value: entries(dir.owners) } },
          ),
        });
      }
      const group = /^\/groups\/([^/]+)\/transitiveMembers$/.exec(call.path);
      if (group) {
        return ok<T>({ value: (dir.members?.[group[1] ?? ''] ?? []).map((id) => ({ id })) });
      }
      return Promise.reject(new Error(`unexpected Graph call ${call.method} ${call.path}`));
    },
    next: () => Promise.reject(new Error('no further pages here')),
  };
  return { graph, calls };
}

function depsFor(dir: Directory, opts: { approvers?: string[]; responder?: () => Promise<string | undefined> } = {}) {
  const { graph, calls } = fakeGraph(dir);
  const config = { ...loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }), APPROVERS: opts.approvers ?? [ALICE, BOB, REQUESTER, RESPONDER, SOC_LEADS] };
  const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used by the eligibility rules')) });
  const deps = { config, graph, approvals: unused, audit: unused, responderId: opts.responder ?? (() => Promise.resolve(RESPONDER)), now: () => Date.UTC(2026, 10, 20) } as unknown as ApprovalDeps;
  return { deps, calls };
}

function approval(over: Partial<ApprovalEntity> = {}): ApprovalEntity {
  return {
    id: 'apr-1',
    status: 'pending',
    quorum: 1,
    expiresAt: Date.UTC(2026, 10, 21),
    requestedBy: REQUESTER,
    excluded: [],
    decisions: [],
    kind: 'release',
    caseId: 'case-1',
    targetKey: `oid:${AGENT}`,
    targetId: AGENT,
    targetName: 'Invoice agent',
    targetKind: 'agentIdentity',
    actionText: 'Re-enable the agent',
    title: 'Release',
    reason: 'contained',
    requestedByName: 'Requester',
    createdAt: '2026-11-20T09:00:00.000Z',
    nonce: 'n',
    ...over,
  };
}

const person = (objectId: string): SignedInPrincipal => ({ objectId, name: objectId.slice(0, 8), tenantId: 'tenant' });

describe('checkEligibility: separation of duties', () => {
  it('lets an approver who neither asked nor answers for the identity decide', async () => {
    const { deps, calls } = depsFor({ sponsors: [{ id: BOB }], owners: [] });
    expect(await checkEligibility(deps, approval(), person(ALICE))).toEqual({ ok: true });
    expect(calls).toEqual(['POST /$batch']);
  });

  it('refuses the requester, anyone recorded as excluded, and the responder itself, though all are approvers', async () => {
    const { deps, calls } = depsFor({});
    const a = approval({ excluded: [BOB] });
    for (const who of [REQUESTER, BOB, RESPONDER]) {
      expect(await checkEligibility(deps, a, person(who)), who).toEqual({
        ok: false,
        code: 'separation-of-duties',
        message: 'You asked for this, or you sponsor or own this identity: someone else must decide (separation of duties).',
      });
    }
    expect(calls).toEqual([]);
  });

  it('refuses a sponsor or an owner Entra lists now, though the approval recorded nobody', async () => {
    for (const dir of [{ sponsors: [{ id: ALICE }] }, { owners: [{ id: ALICE }] }]) {
      const { deps } = depsFor(dir);
      expect(await checkEligibility(deps, approval(), person(ALICE)), JSON.stringify(dir)).toMatchObject({ ok: false, code: 'separation-of-duties' });
    }
  });

  it('refuses a member of a group that sponsors the identity', async () => {
    const { deps } = depsFor({ sponsors: [{ id: SPONSOR_GROUP, group: true }], members: { [SPONSOR_GROUP]: [ALICE.toUpperCase()] } });
    expect(await checkEligibility(deps, approval(), person(ALICE))).toMatchObject({ ok: false, code: 'separation-of-duties' });
  });

  it('still refuses nobody for a responder id that cannot be read, and still checks the other rules', async () => {
    const { deps } = depsFor({ sponsors: [{ id: ALICE }] }, { responder: () => Promise.reject(new Error('token endpoint down')) });
    expect(await checkEligibility(deps, approval(), person(BOB))).toEqual({ ok: true });
    expect(await checkEligibility(deps, approval(), person(ALICE))).toMatchObject({ ok: false, code: 'separation-of-duties' });
  });
});

describe('checkEligibility: the approvers list', () => {
  it('refuses someone on neither the list nor a listed group, and reads no sponsors for them', async () => {
    const { deps, calls } = depsFor({}, { approvers: [BOB, SOC_LEADS] });
    expect(await checkEligibility(deps, approval(), person(ALICE))).toEqual({
      ok: false,
      code: 'not-allowed',
      message: 'You are not on the approvers list for agent responders. Ask a SOC lead to decide.',
    });
    expect(calls).toEqual([`POST /users/${ALICE}/checkMemberGroups`]);
  });

  it('lets a member of a listed group decide', async () => {
    const { deps } = depsFor({ memberOf: { [ALICE]: [SOC_LEADS] } }, { approvers: [SOC_LEADS] });
    expect(await checkEligibility(deps, approval(), person(ALICE))).toEqual({ ok: true });
  });

  it('lets nobody decide while group membership cannot be checked, and says so', async () => {
    const { deps } = depsFor({ membershipFails: new UpstreamError({ service: 'Graph', httpStatus: 503, transient: true, message: 'Service unavailable' }) }, { approvers: [SOC_LEADS] });
    const verdict = await checkEligibility(deps, approval(), person(ALICE));
    expect(verdict).toMatchObject({ ok: false, code: 'unverifiable' });
    expect(verdict.ok ? '' : verdict.message).toBe(
      'Nobody can decide this request right now: membership of the approver groups could not be checked in Microsoft Entra (Service unavailable). Nothing was changed; try again in a few minutes.',
    );
  });

  it('lets a fault that is not Graph’s answer surface as an error, not as a verdict', async () => {
    const bug = new TypeError('bug');
    const { deps } = depsFor({ membershipFails: bug }, { approvers: [SOC_LEADS] });
    await expect(checkEligibility(deps, approval(), person(ALICE))).rejects.toBe(bug);
  });
});

describe('checkEligibility: fails closed when sponsors and owners cannot be read', () => {
  it('lets nobody decide when Graph refuses the read, naming the permission to grant', async () => {
    for (const status of [403, 401]) {
      const { deps } = depsFor({ sponsorsStatus: status });
      const verdict = await checkEligibility(deps, approval(), person(ALICE));
      expect(verdict, String(status)).toMatchObject({ ok: false, code: 'unverifiable' });
      const message = verdict.ok ? '' : verdict.message;
      expect(message).toMatch(/^Nobody can decide this request until the identity's sponsors and owners can be read, because separation of duties cannot be checked\. /);
      expect(message).toContain(" An administrator must grant the responder's managed identity the Microsoft Graph application permission AgentIdentity.ReadWrite.All.");
      expect(message).toMatch(/ Nothing was changed\.$/);
    }
  });

  it('lets nobody decide when Graph fails the read, without blaming a permission', async () => {
    const { deps } = depsFor({ sponsorsStatus: 404 });
    const verdict = await checkEligibility(deps, approval(), person(ALICE));
    expect(verdict).toMatchObject({ ok: false, code: 'unverifiable' });
    // Graph's answer, then "Nothing was changed.": no permission advice for a failure that is not a refusal.
    expect(verdict.ok ? '' : verdict.message).toBe(
      "Nobody can decide this request until the identity's sponsors and owners can be read, because separation of duties cannot be checked. " +
        `Microsoft Graph answered 404 Authorization_RequestDenied when listing the sponsors of ${AGENT}. Nothing was changed.`,
    );
  });
});

describe('checkEligibility: identities without sponsors or owners', () => {
  it('reads no sponsors for a target that is not an Entra identity, or not named by object id', async () => {
    for (const over of [{ targetKind: 'other' as const }, { targetId: 'agent@contoso.com' }, { targetId: `upn:${AGENT}` }, { targetId: `${AGENT}0` }]) {
      const { deps, calls } = depsFor({ sponsors: [{ id: ALICE }] });
      expect(await checkEligibility(deps, approval(over), person(ALICE)), JSON.stringify(over)).toEqual({ ok: true });
      expect(calls).toEqual([]);
    }
  });

  it('counts every kind the responder acts on as accountable, and only those', () => {
    const kinds: IdentityKind[] = ['agentIdentity', 'agentBlueprintPrincipal', 'servicePrincipal', 'agentUser', 'user', 'other'];
    expect(kinds.filter(isAccountableKind)).toEqual(['agentIdentity', 'agentBlueprintPrincipal', 'servicePrincipal', 'agentUser', 'user']);
  });
});
