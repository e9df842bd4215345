import type { Graph } from '../graph/graph-client';
import { getByIds } from '../graph/directory-objects';
import { getServicePrincipalByAppId } from '../graph/service-principals';
import { getUser } from '../graph/users';
import type { DirectoryObject } from '../graph/identity-kind';
import type { TargetRecord } from '../store/case-model';

/**
 * Resolves every unresolved target of a case to its directory object: all object ids in one
 * `directoryObjects/getByIds` call, appIds through `servicePrincipals(appId='…')`, UPNs through `/users/{upn}`
 * (these in parallel). Returns the targets it changed; unknown identities become `not-found`.
 */
export async function resolveTargets(graph: Graph, targets: readonly TargetRecord[], now: () => number): Promise<{ changed: TargetRecord[]; requestIds: string[] }> {
  const pending = targets.filter((t) => t.status === 'pending' && t.kind === undefined);
  if (pending.length === 0) {
    return { changed: [], requestIds: [] };
  }
  const byObjectId = pending.filter((t) => t.ref.by === 'objectId');
  const others = pending.filter((t) => t.ref.by !== 'objectId');
  const [bulk, singles] = await Promise.all([
    byObjectId.length > 0 ? getByIds(graph, byObjectId.map((t) => (t.ref.by === 'objectId' ? t.ref.objectId : ''))) : Promise.resolve({ objects: [], requestIds: [] }),
    Promise.all(others.map((t) => (t.ref.by === 'appId' ? getServicePrincipalByAppId(graph, t.ref.appId) : t.ref.by === 'upn' ? getUser(graph, t.ref.upn) : Promise.resolve(undefined)))),
  ]);
  const found = new Map(bulk.objects.map((o) => [o.id, o]));
  const at = new Date(now()).toISOString();
  const changed: TargetRecord[] = [];
  byObjectId.forEach((t) => changed.push(apply(t, t.ref.by === 'objectId' ? found.get(t.ref.objectId) : undefined, at)));
  others.forEach((t, i) => changed.push(apply(t, singles[i], at)));
  return { changed, requestIds: bulk.requestIds };
}

function apply(target: TargetRecord, obj: DirectoryObject | undefined, at: string): TargetRecord {
  if (!obj) {
    return { ...target, status: 'not-found', reason: 'No such identity in the tenant (deleted, or the alert named another tenant)', resolvedAt: at };
  }
  const resolved: TargetRecord = { ...target, objectId: obj.id, kind: obj.kind, resolvedAt: at };
  const name = obj.displayName ?? obj.userPrincipalName;
  if (name !== undefined) {
    resolved.displayName = name;
  }
  if (obj.appId !== undefined) {
    resolved.appId = obj.appId;
  }
  if (obj.appOwnerOrganizationId !== undefined) {
    resolved.appOwnerOrganizationId = obj.appOwnerOrganizationId;
  }
  if (obj.agentIdentityBlueprintId !== undefined) {
    resolved.agentIdentityBlueprintId = obj.agentIdentityBlueprintId;
  }
  if (obj.kind === 'other') {
    resolved.status = 'skipped';
    resolved.reason = `Object is a ${obj.odataType || 'directory object'}, not an identity the responders act on`;
  }
  return resolved;
}
